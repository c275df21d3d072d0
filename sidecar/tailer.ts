// Runs one follower per path (and per file a glob matches) against one sink: the wake-up loops, periodic checkpoints, and the
// shutdown sequence (drain to the end of the files within the drain timeout, flush, save).
import type { SidecarConfig } from "./config.ts";
import { checkpointFile, loadCheckpoint, saveCheckpoint, type Checkpoint } from "./checkpoint.ts";
import { Follower } from "./follower.ts";
import { FileOwners } from "./file-owners.ts";
import type { Transform } from "./transform.ts";
import { log } from "./log.ts";
import { SinkClosedError, type Sink } from "./sink.ts";
import { createStats, newFileStats, type Stats } from "./stats.ts";
import { removeFile } from "./files.ts";
import { isGlob } from "../settings/file-glob.ts";
import type { Glob } from "./glob.ts";
import type { Listing } from "./glob-scan.ts";
import { pollWait } from "./poll-pace.ts";
import { SaveBackoff } from "./save-backoff.ts";
import { Waker } from "./wakeup.ts";
import { SharedWindow } from "./shared-window.ts";

export interface TailerOptions {
  readonly config: SidecarConfig;
  readonly sink: Sink;
  /** Builds the transform for one file (json, multiline); undefined: raw bytes. */
  readonly transformFor?: ((file: string) => Transform) | undefined;
  /** Count lines too (costs a search per line; only worth it when metrics are served). */
  readonly countLines?: boolean;
}

/** A follower and its wake-ups; `retiring`: its glob no longer matches the file (tailer.ts lets it go). */
interface Running {
  readonly follower: Follower;
  readonly waker: Waker;
  retiring: boolean;
  done?: Promise<void>;
}

/** A glob's file that is gone (or now a rotated generation) is let go after this long without new bytes. */
export const RETIRE_QUIET_MS = 10_000;

export type StopReason = "signal" | "output-closed" | "error";

export interface Stopped {
  readonly reason: StopReason;
  /** False when the drain timeout cut the reading short. */
  readonly drained: boolean;
  /** False when the last checkpoint save had not returned by the drain timeout (it may be stuck in a pool thread). */
  readonly saved: boolean;
}

/**
 * Of the drain timeout, the part kept for the last checkpoint save: reading stops this much
 * before the timeout, so the whole shutdown ends within it. A quarter of it, at most 1 s.
 */
export function saveReserveMs(drainTimeoutMs: number): number {
  return Math.min(1000, Math.floor(drainTimeoutMs / 4));
}

export interface Tailer {
  readonly stats: Stats;
  /** Resolves when every follower has stopped and the checkpoints are saved, within the drain timeout. */
  readonly done: Promise<Stopped>;
  /** Begin the shutdown: read to the end of the files (bounded by drainTimeoutMs), flush, save checkpoints. */
  stop(): void;
}

export async function startTailer(options: TailerOptions): Promise<Tailer> {
  const { config, sink } = options;
  // A path given twice is one path: one follower, one checkpoint. Glob entries (glob.ts) add and
  // retire followers of their own as files come and go (globLoop below).
  const entries = [...new Set(config.files)];
  const exact = entries.filter((e) => !isGlob(e));
  // Loaded only for globs, as resume.ts is when needed: every module loaded costs RSS at idle.
  const globEntries = entries.filter(isGlob);
  const gm = globEntries.length > 0 ? { ...(await import("./glob.ts")), ...(await import("./glob-scan.ts")) } : undefined;
  const globs = gm ? globEntries.map((e) => gm.parseGlob(e)) : [];
  const stats = createStats(exact);
  const followers = new Map<string, Running>();
  const owners = new FileOwners(); // one file under two followed paths is read by one of them
  // One coalescing window for every follower: one wake-up serves all the files written within it (shared-window.ts).
  const coalescing = new SharedWindow(config.coalesceMs);
  const loops: Promise<void>[] = [];
  /** Ends each glob's wait at a stop. */
  const globWatches: (() => void)[] = [];

  async function loadFor(path: string): Promise<Checkpoint | undefined> {
    if (!config.checkpointDir) return undefined;
    const loaded = await loadCheckpoint(config.checkpointDir, path);
    if (!loaded.checkpoint && loaded.problem) log("warn", loaded.problem, { file: path });
    return loaded.checkpoint;
  }

  /** A follower for `path`, not yet stepping (`late`: found after start-up, so read from its start). */
  function addFollower(path: string, checkpoint: Checkpoint | undefined, late?: { readonly newSinceNs: bigint | undefined }): Running {
    const transformFor = options.transformFor;
    let fileStats = stats.files.get(path);
    if (!fileStats) stats.files.set(path, (fileStats = newFileStats()));
    const follower: Follower = new Follower({
      path,
      config: late ? { ...config, from: "start" } : config,
      sink,
      stats: fileStats,
      checkpoint,
      newTransform: transformFor ? () => transformFor(path) : undefined,
      countLines: options.countLines ?? false,
      owners,
      newSinceNs: late?.newSinceNs,
      // Forwarded lines carry times by offset, each anchor saved before the lines it times go out,
      // so a restart after a crash sends them again with the same times (line-times.ts).
      times: config.sink === "stdout" ? undefined : { maxLagMs: config.checkpointIntervalMs, saveAhead: () => saveAhead(follower) },
    });
    const running: Running = { follower, waker: new Waker(path, config.coalesceMs, coalescing), retiring: false };
    followers.set(path, running);
    return running;
  }

  for (const path of exact) addFollower(path, await loadFor(path));
  // The files each glob matches at start-up, before any follower steps: a checkpointed file may have
  // been rotated to another followed name meanwhile, and every follower reserves its own first.
  const firstListings: { listing: Listing; followed: readonly string[]; overCap: readonly string[] }[] = [];
  for (const g of globs) {
    const listing = gm!.listGlob(g, (p) => gm!.matches(g, p));
    const plan = gm!.planScan(g, { found: listing.files, followed: new Set(followers.keys()), followedBefore: new Set(), room: config.maxFiles - followers.size });
    firstListings.push({ listing, followed: plan.follow, overCap: plan.overCap });
    for (const path of plan.follow) addFollower(path, await loadFor(path));
  }
  let stopping = false;
  let reason: StopReason = "signal";
  /** Each path's checkpoint as last written (what reclaim may free up to), and its key, to skip rewriting it. */
  const saved = new Map<string, { readonly key: string; readonly checkpoint: Checkpoint }>();
  const backoff = new SaveBackoff(config.checkpointIntervalMs);

  // Saves run one at a time, periodic or ahead of a batch (one temp file name per path).
  let lock: Promise<unknown> = Promise.resolve();
  function exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = lock.then(work, work);
    lock = run.catch(() => undefined);
    return run;
  }

  /** Saves `f`'s checkpoint unless it is the one saved last: whether it wrote, or why it could not. */
  async function saveOne(dir: string, f: Follower, exact: boolean): Promise<boolean | Error> {
    let cp: Checkpoint | undefined;
    try {
      cp = await f.checkpoint(exact);
    } catch (e) {
      // The file may have been switched under us (its descriptor closed): the next round saves it.
      log("warn", "checkpoint not saved", { file: f.path, error: (e as Error).message });
      return false;
    }
    if (!cp) return false;
    const key = `${cp.identity.dev}:${cp.identity.ino}:${cp.identity.fingerprint}:${cp.offset}:${cp.pending?.length ?? 0}:${cp.times?.ns ?? ""}:${cp.times?.until ?? ""}:${cp.cut ?? ""}:${cp.continues ?? ""}`;
    if (saved.get(f.path)?.key === key) return false;
    try {
      await saveCheckpoint(dir, cp);
    } catch (e) {
      return e as Error;
    }
    saved.set(f.path, { key, checkpoint: cp });
    stats.lastCheckpointAt = Date.now();
    return true;
  }

  /**
   * A follower's new time anchor, saved before the lines it times are sent. Bounded: a save stuck
   * on the filesystem must not stop forwarding (those lines may then get new times after a crash).
   */
  const aheadPending = new Set<Follower>();
  async function saveAhead(f: Follower): Promise<void> {
    const dir = config.checkpointDir;
    // One given up on is still queued: it saves the newest anchor when it runs; no second one piles up.
    if (!dir || aheadPending.has(f)) return;
    aheadPending.add(f);
    const run = exclusive(async () => reportSaves(dir, [await saveOne(dir, f, false)])).finally(() => aheadPending.delete(f));
    if (!(await beforeDeadline(run.then(() => true), Date.now() + Math.max(1000, config.checkpointIntervalMs)))) {
      log("warn", "checkpoint save is slow: sending lines before their times are saved", { file: f.path, dir });
    }
  }

  /** `exact`: the shutdown's save, with the sink halted (see Follower.checkpoint). Resolves whether it wrote a file. */
  async function saveAll(exact: boolean): Promise<boolean> {
    const dir = config.checkpointDir;
    if (!dir) return false;
    const results: (boolean | Error)[] = [];
    for (const { follower: f } of [...followers.values()]) {
      const result = await exclusive(() => saveOne(dir, f, exact));
      results.push(result);
      // Only now is the prefix both delivered and recorded: a restart never reads it again. Not at
      // the shutdown's save, which has the drain timeout to keep.
      const cp = saved.get(f.path)?.checkpoint;
      if (result === true && !exact && config.reclaim !== undefined && cp !== undefined) {
        await f.reclaim(cp).catch((e: unknown) => log("warn", "reclaim: not done this time", { file: f.path, error: (e as Error).message }));
      }
    }
    return reportSaves(dir, results);
  }

  /** Counts and reports the outcome of saves (backoff on failure); whether any wrote a file. */
  function reportSaves(dir: string, results: readonly (boolean | Error)[]): boolean {
    const failure = results.find((r): r is Error => r instanceof Error);
    const wrote = results.includes(true);
    if (failure) {
      stats.checkpointSaveFailures++;
      const r = backoff.failed(Date.now());
      if (r.log) log("error", "cannot save checkpoints: retrying with backoff", { dir, error: failure.message, failures: r.failures, retryInMs: r.retryInMs });
    } else if (wrote) {
      const failures = backoff.succeeded();
      if (failures > 0) log("info", "checkpoints saved again", { dir, failuresBefore: failures });
    }
    return wrote;
  }

  /**
   * The shutdown's save. A pool write parked when the sink was halted (at most PIPE_BUF bytes,
   * all or nothing) may still complete while a save runs: then the next round saves the new
   * point; a round that writes nothing ends it (at most three: the halted sink moves once).
   */
  async function saveLast(): Promise<boolean> {
    await saving;
    for (let round = 0; round < 3 && (await saveAll(true)); round++);
    return true;
  }

  // One save at a time: a save that hangs (a stuck filesystem) must not pile up more behind it.
  // The save timer stands only while there may be something to save: a step that moved (read,
  // opened, switched files) arms it, and a round that wrote a checkpoint, or failed to, arms the
  // next one; a round with nothing new lets it lapse. An idle sidecar has no save wake-ups at all
  // (docs/decisions.md, "Idle wake-ups").
  let saving: Promise<unknown> | undefined;
  let timer: NodeJS.Timeout | undefined;
  function saveSoon(): void {
    if (!config.checkpointDir || timer !== undefined || stopping) return;
    timer = setTimeout(() => {
      timer = undefined;
      if (saving || !backoff.due(Date.now())) {
        saveSoon();
        return;
      }
      saving = saveAll(false)
        .then((wrote) => {
          if (wrote || !backoff.due(Date.now())) saveSoon();
        })
        .finally(() => (saving = undefined));
    }, config.checkpointIntervalMs);
  }

  async function loop(r: Running): Promise<void> {
    const { follower: f, waker } = r;
    // Whether the steps since the last wait read anything: then the next wait polls (wakeup.ts).
    let flowing = false;
    for (;;) {
      // A retired follower (its glob lost the file) reads to the end and writes what it holds, as at a stop.
      const draining = stopping || r.retiring;
      const before = f.lastDataAt;
      const step = await f.step(draining, waker.takeRenamed());
      if (step === "progress") {
        if (f.lastDataAt !== before) flowing = true;
        saveSoon();
        continue;
      }
      if (draining) {
        await f.finish();
        return;
      }
      const { pollIntervalMs, quietPollIntervalMs } = config;
      await waker.wait(pollWait({ now: Date.now(), lastDataAt: f.lastDataAt, watching: () => waker.watching, deadline: f.deadline(), pollIntervalMs, quietPollIntervalMs }), flowing);
      flowing = false;
    }
  }

  /** Runs `r`'s loop; a failure stops the sidecar. */
  function run(r: Running): Promise<void> {
    const done = loop(r).catch((e: unknown) => {
      if (e instanceof SinkClosedError) {
        if (!stopping) log("error", `${e.message}: stopping`);
        stopAll("output-closed");
        return;
      }
      log("error", "follower failed", { file: r.follower.path, error: (e as Error).stack ?? String(e) });
      stopAll("error");
    });
    loops.push(done);
    return done;
  }

  /** Lets a glob's follower go once it has read its file to the end: closed, its checkpoint removed. */
  async function retire(r: Running): Promise<void> {
    r.retiring = true;
    r.waker.wake();
    await r.done;
    if (stopping) return; // the shutdown closes it and saves its checkpoint
    r.waker.close();
    followers.delete(r.follower.path);
    stats.files.delete(r.follower.path);
    saved.delete(r.follower.path);
    await r.follower.close();
    await saving;
    // A save ahead of its last batch may still be queued: the checkpoint goes after it.
    await exclusive(async () => undefined);
    if (config.checkpointDir) await removeFile(checkpointFile(config.checkpointDir, r.follower.path)).catch(() => undefined);
    log("info", "file no longer matched: let go", { file: r.follower.path });
  }

  /** Lists a glob's directories, follows new matches and lets go of the files gone, until the stop. */
  async function globLoop(g: Glob, first: Listing, firstFollowed: readonly string[], firstOverCap: readonly string[]): Promise<void> {
    const { DirWatch, listGlob, matches, planRetire, planScan } = gm!;
    const watch = new DirWatch(config.coalesceMs);
    globWatches.push(() => watch.close());
    /** The files this glob follows (another entry's are not its to let go). */
    const ours = new Set<string>(firstFollowed);
    const before = new Set<string>(ours);
    let listing = first;
    let listedAtNs = BigInt(Date.now() - 50) * 1_000_000n;
    let warnedOverCap = "";
    /** When a file to let go is due (quiet long enough), if one waits. */
    let retireAt: number | undefined;
    const warnOverCap = (overCap: readonly string[]): void => {
      const over = overCap.join("\n");
      if (over !== warnedOverCap && overCap.length > 0) {
        log("warn", "more files match than --max-files allows: these are not followed until others go", { glob: g.entry, maxFiles: config.maxFiles, notFollowed: overCap.slice(0, 20).join(", "), notFollowedCount: overCap.length });
      }
      warnedOverCap = over;
    };
    warnOverCap(firstOverCap);
    try {
      for (;;) {
        const watching = watch.watch(listing.dirs) && listing.complete && listing.dirs.includes(g.root);
        const pace = watching ? Math.max(config.globIntervalMs, config.quietPollIntervalMs) : config.globIntervalMs;
        await watch.wait(retireAt === undefined ? pace : Math.min(pace, Math.max(0, retireAt - Date.now())));
        if (stopping) return;
        const sinceNs = listedAtNs;
        listedAtNs = BigInt(Date.now() - 50) * 1_000_000n;
        listing = listGlob(g, (p) => matches(g, p));
        retireAt = undefined;
        for (const path of planRetire(g, { found: listing.files, ours, followedBefore: before })) {
          const r = followers.get(path);
          if (!r || r.retiring) continue;
          const due = r.follower.lastDataAt + RETIRE_QUIET_MS;
          if (Date.now() < due) {
            retireAt = Math.min(retireAt ?? due, due);
            continue;
          }
          ours.delete(path);
          retire(r)
            .catch((e: unknown) => log("warn", "could not let go of a file no longer matched", { file: path, error: (e as Error).message }))
            .finally(() => watch.changed()); // its room goes to a file over the cap
        }
        const plan = planScan(g, { found: listing.files, followed: new Set(followers.keys()), followedBefore: before, room: config.maxFiles - followers.size });
        for (const path of plan.follow) {
          if (stopping) return;
          const checkpoint = await loadFor(path);
          if (followers.has(path)) continue; // another glob took it meanwhile
          const r = addFollower(path, checkpoint, { newSinceNs: sinceNs });
          ours.add(path);
          before.add(path);
          if (before.size > 4 * config.maxFiles) before.delete(before.values().next().value!);
          r.done = run(r);
        }
        warnOverCap(plan.overCap);
      }
    } finally {
      watch.close();
    }
  }

  let drainTimer: NodeJS.Timeout | undefined;
  let drainExpired: (v: false) => void = () => undefined;
  const drainLimit = new Promise<false>((resolve) => {
    drainExpired = resolve;
  });

  let stopDeadline = 0;

  function stopAll(why: StopReason): void {
    if (stopping) return;
    stopping = true;
    reason = why;
    stopDeadline = Date.now() + config.drainTimeoutMs;
    drainTimer = setTimeout(() => drainExpired(false), config.drainTimeoutMs - saveReserveMs(config.drainTimeoutMs));
    for (const r of followers.values()) r.waker.wake();
    for (const w of globWatches) w();
  }

  // A loop ends only once stopping (or on its own failure, which stops the others).
  for (const r of followers.values()) r.done = run(r);
  for (const [i, g] of globs.entries()) {
    loops.push(
      globLoop(g, firstListings[i]!.listing, firstListings[i]!.followed, firstListings[i]!.overCap).catch((e: unknown) => {
        log("error", "glob failed", { glob: g.entry, error: (e as Error).stack ?? String(e) });
        stopAll("error");
      }),
    );
  }

  /** Every loop, those started while waiting included. */
  async function allLoops(): Promise<true> {
    for (let n = -1; n !== loops.length; ) {
      n = loops.length;
      await Promise.all(loops);
    }
    return true;
  }

  const finished = (async () => {
    const drained = await Promise.race([allLoops(), drainLimit]);
    clearTimeout(drainTimer);
    clearTimeout(timer);
    for (const r of followers.values()) r.waker.close();
    // A write still parked stays parked, but no new one starts: what the output took holds
    // still while the last checkpoint records it to the byte.
    if (!drained) sink.halt?.();
    const saved = await beforeDeadline(saveLast(), stopDeadline);
    if (!saved) log("error", "checkpoints not saved within the drain timeout: stopping without them", { dir: config.checkpointDir ?? null });
    if (drained) for (const r of followers.values()) await r.follower.close();
    if (!drained) log("warn", "drain timeout reached: stopping with lines still unwritten (they are read again after a restart)");
    return { reason, drained, saved };
  })();

  return {
    stats,
    done: finished,
    stop: () => stopAll("signal"),
  };
}

/** `work`'s result, or false once `deadline` (Date.now() ms) has passed. */
async function beforeDeadline(work: Promise<boolean>, deadline: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), Math.max(0, deadline - Date.now()))));
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

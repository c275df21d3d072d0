// Runs one follower per path against one sink: the wake-up loops, periodic checkpoints, and the
// shutdown sequence (drain to the end of the files within the drain timeout, flush, save).
import type { SidecarConfig } from "./config.ts";
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from "./checkpoint.ts";
import { Follower } from "./follower.ts";
import { FileOwners } from "./file-owners.ts";
import type { Transform } from "./transform.ts";
import { log } from "./log.ts";
import { SinkClosedError, type Sink } from "./sink.ts";
import { createStats, type Stats } from "./stats.ts";
import { pollWait } from "./poll-pace.ts";
import { SaveBackoff } from "./save-backoff.ts";
import { Waker } from "./wakeup.ts";

export interface TailerOptions {
  readonly config: SidecarConfig;
  readonly sink: Sink;
  /** Builds the transform for one file (json, multiline); undefined: raw bytes. */
  readonly transformFor?: ((file: string) => Transform) | undefined;
  /** Count lines too (costs a search per line; only worth it when metrics are served). */
  readonly countLines?: boolean;
}

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
  const stats = createStats(config.files);
  const followers: Follower[] = [];
  const owners = new FileOwners(); // one file under two followed paths is read by one of them
  // A path given twice is one path: one follower, one checkpoint.
  for (const path of new Set(config.files)) {
    let checkpoint: Checkpoint | undefined;
    if (config.checkpointDir) {
      const loaded = await loadCheckpoint(config.checkpointDir, path);
      if (loaded.checkpoint) checkpoint = loaded.checkpoint;
      else if (loaded.problem) log("warn", loaded.problem, { file: path });
    }
    const transformFor = options.transformFor;
    const follower: Follower = new Follower({
      path,
      config,
      sink,
      stats: stats.files.get(path)!,
      checkpoint,
      newTransform: transformFor ? () => transformFor(path) : undefined,
      countLines: options.countLines ?? false,
      owners,
      // Forwarded lines carry times by offset, each anchor saved before the lines it times go out,
      // so a restart after a crash sends them again with the same times (line-times.ts).
      times: config.sink === "stdout" ? undefined : { maxLagMs: config.checkpointIntervalMs, saveAhead: () => saveAhead(follower) },
    });
    followers.push(follower);
  }
  const wakers = followers.map((f) => new Waker(f.path, config.coalesceMs));
  let stopping = false;
  let reason: StopReason = "signal";
  const saved = new Map<string, string>();
  /** Each follower's checkpoint as last written: what reclaim may free up to. */
  const lastSaved = new Map<Follower, Checkpoint>();
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
    const key = `${cp.identity.dev}:${cp.identity.ino}:${cp.identity.fingerprint}:${cp.offset}:${cp.pending?.length ?? 0}:${cp.times?.ns ?? ""}:${cp.times?.until ?? ""}`;
    if (saved.get(f.path) === key) return false;
    try {
      await saveCheckpoint(dir, cp);
    } catch (e) {
      return e as Error;
    }
    saved.set(f.path, key);
    lastSaved.set(f, cp);
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
    for (const f of followers) {
      const result = await exclusive(() => saveOne(dir, f, exact));
      results.push(result);
      // Only now is the prefix both delivered and recorded: a restart never reads it again. Not at
      // the shutdown's save, which has the drain timeout to keep.
      const cp = lastSaved.get(f);
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

  async function loop(f: Follower, waker: Waker): Promise<void> {
    // Whether the steps since the last wait read anything: then the next wait polls (wakeup.ts).
    let flowing = false;
    for (;;) {
      const draining = stopping;
      const before = f.lastDataAt;
      const r = await f.step(draining, waker.takeRenamed());
      if (r === "progress") {
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
    for (const w of wakers) w.wake();
  }

  // A loop ends only once stopping (or on its own failure, which stops the others).
  const loops = followers.map((f, i) =>
    loop(f, wakers[i]!).catch((e: unknown) => {
      if (e instanceof SinkClosedError) {
        if (!stopping) log("error", `${e.message}: stopping`);
        stopAll("output-closed");
        return;
      }
      log("error", "follower failed", { file: f.path, error: (e as Error).stack ?? String(e) });
      stopAll("error");
    }),
  );

  const finished = (async () => {
    const drained = await Promise.race([Promise.all(loops).then(() => true), drainLimit]);
    clearTimeout(drainTimer);
    clearTimeout(timer);
    for (const w of wakers) w.close();
    // A write still parked stays parked, but no new one starts: what the output took holds
    // still while the last checkpoint records it to the byte.
    if (!drained) sink.halt?.();
    const saved = await beforeDeadline(saveLast(), stopDeadline);
    if (!saved) log("error", "checkpoints not saved within the drain timeout: stopping without them", { dir: config.checkpointDir ?? null });
    if (drained) for (const f of followers) await f.close();
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

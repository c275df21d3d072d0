// Runs one follower per path against one sink: the wake-up loops, periodic checkpoints, and the
// shutdown sequence (drain to the end of the files within the drain timeout, flush, save).
import type { SidecarConfig } from "./config.ts";
import { loadCheckpoint, saveCheckpoint, type Checkpoint } from "./checkpoint.ts";
import { Follower } from "./follower.ts";
import { FileOwners } from "./file-owners.ts";
import type { LineTransform } from "./line-transform.ts";
import { log } from "./log.ts";
import { SinkClosedError, type Sink } from "./sink.ts";
import { createStats, type Stats } from "./stats.ts";
import { pollWait } from "./poll-pace.ts";
import { Waker } from "./wakeup.ts";

export interface TailerOptions {
  readonly config: SidecarConfig;
  readonly sink: Sink;
  /** Builds the transform for one file (json, multiline); undefined: raw bytes. */
  readonly transformFor?: ((file: string) => LineTransform) | undefined;
  /** Count lines too (costs a search per line; only worth it when metrics are served). */
  readonly countLines?: boolean;
}

export type StopReason = "signal" | "output-closed" | "error";

export interface Tailer {
  readonly stats: Stats;
  /** Resolves when every follower has stopped; `drained` is false when the drain timeout cut it short. */
  readonly done: Promise<{ reason: StopReason; drained: boolean }>;
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
    followers.push(
      new Follower({
        path,
        config,
        sink,
        stats: stats.files.get(path)!,
        checkpoint,
        newTransform: transformFor ? () => transformFor(path) : undefined,
        countLines: options.countLines ?? false,
        owners,
      }),
    );
  }
  const wakers = followers.map((f) => new Waker(f.path));
  let stopping = false;
  let reason: StopReason = "signal";
  const saved = new Map<string, string>();

  async function saveAll(): Promise<void> {
    if (!config.checkpointDir) return;
    for (const f of followers) {
      try {
        const cp = await f.checkpoint();
        if (!cp) continue;
        const key = `${cp.identity.dev}:${cp.identity.ino}:${cp.identity.fingerprint}:${cp.offset}`;
        if (saved.get(f.path) === key) continue;
        await saveCheckpoint(config.checkpointDir, cp);
        saved.set(f.path, key);
        stats.lastCheckpointAt = Date.now();
      } catch (e) {
        // The file may have been switched under us (its descriptor closed): the next round saves it.
        log("warn", "checkpoint not saved", { file: f.path, error: (e as Error).message });
      }
    }
  }

  let saving: Promise<void> = Promise.resolve();
  const timer = config.checkpointDir
    ? setInterval(() => {
        saving = saving.then(saveAll);
      }, config.checkpointIntervalMs)
    : undefined;

  async function loop(f: Follower, waker: Waker): Promise<void> {
    for (;;) {
      const draining = stopping;
      const r = await f.step(draining, waker.takeRenamed());
      if (r === "progress") continue;
      if (draining) {
        await f.finish();
        return;
      }
      const { pollIntervalMs, quietPollIntervalMs } = config;
      await waker.wait(pollWait({ now: Date.now(), lastDataAt: f.lastDataAt, watching: () => waker.watching, deadline: f.deadline(), pollIntervalMs, quietPollIntervalMs }));
    }
  }

  let drainTimer: NodeJS.Timeout | undefined;
  let drainExpired: (v: false) => void = () => undefined;
  const drainLimit = new Promise<false>((resolve) => {
    drainExpired = resolve;
  });

  function stopAll(why: StopReason): void {
    if (stopping) return;
    stopping = true;
    reason = why;
    drainTimer = setTimeout(() => drainExpired(false), config.drainTimeoutMs);
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
    if (timer) clearInterval(timer);
    for (const w of wakers) w.close();
    await saving;
    await saveAll();
    if (drained) for (const f of followers) await f.close();
    if (!drained) log("warn", "drain timeout reached: stopping with lines still unwritten (they are read again after a restart)");
    return { reason, drained };
  })();

  return {
    stats,
    done: finished,
    stop: () => stopAll("signal"),
  };
}

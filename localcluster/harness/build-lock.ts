// One build per cache entry at a time: test files run in parallel (or the demo beside the tests) would
// otherwise each compile Kubernetes at once on the same cores. A lock file holds the builder's pid;
// a lock whose pid is gone is stale and taken over.
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { formatSeconds, type Log } from "./go-build.ts";
import { sleep } from "./poll.ts";
import { forgetOnExit, isAlive, removeOnExit } from "./processes.ts";

/** The lock's file in the cache entry being built. */
export const BUILD_LOCK_FILE = ".build.lock";
const WAIT_LIMIT_MS = 90 * 60_000;
const PROGRESS_EVERY_MS = 15_000;

async function tryLock(path: string): Promise<number | undefined> {
  try {
    await writeFile(path, String(process.pid), { flag: "wx" });
    return undefined;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  const holder = Number(await readFile(path, "utf8").catch(() => ""));
  // An empty file is a lock being written this instant: treat it as held.
  if (holder > 0 && !isAlive(holder)) {
    await rm(path, { force: true });
    return tryLock(path);
  }
  return holder || -1;
}

export async function withBuildLock<T>(dir: string, log: Log, build: () => Promise<T>): Promise<T> {
  const path = join(dir, BUILD_LOCK_FILE);
  const started = Date.now();
  let lastReport = 0;
  for (;;) {
    const holder = await tryLock(path);
    if (holder === undefined) break;
    const waited = Date.now() - started;
    if (waited > WAIT_LIMIT_MS) throw new Error(`gave up after ${formatSeconds(waited)} waiting for the build by pid ${holder} (lock ${path})`);
    if (waited - lastReport >= PROGRESS_EVERY_MS || lastReport === 0) {
      log(`control-plane: waiting for the build already running in pid ${holder}: ${formatSeconds(waited)} so far`);
      lastReport = waited || 1;
    }
    await sleep(1_000);
  }
  removeOnExit(path);
  try {
    return await build();
  } finally {
    await rm(path, { force: true });
    forgetOnExit(path);
  }
}

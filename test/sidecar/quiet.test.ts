// A file quiet for QUIET_AFTER_MS is polled at --quiet-poll-interval; its next write, and its
// rotation, still reach stdout through the fs.watch wake-up. The quiet poll is set to an hour here,
// so nothing but the watch can be what finds them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, copyFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { QUIET_AFTER_MS } from "../../sidecar/poll-pace.ts";
import { assertExactlyOnce, numberedLines, startSidecar, tempDir, waitForLines, waitUntilFollowing } from "./harness.ts";

test("after a quiet spell, a write and then a rotation are read through the watch alone (quiet poll of 1 h)", { timeout: 60_000 }, async (t) => {
  const { file, sidecar } = await quietSidecar(t);
  appendFileSync(file, numberedLines(101, 200));
  await waitForLines(sidecar, 200, 5000);
  await sleep(QUIET_AFTER_MS + 1500);
  // Rotation by rename + create, the new file written at once: the old one is finished, then the new one followed.
  renameSync(file, `${file}.1`);
  writeFileSync(file, numberedLines(201, 300));
  await waitForLines(sidecar, 300, 5000);
  assert.equal(await sidecar.stop("SIGTERM"), 0);
  assertExactlyOnce(sidecar.stdout(), 300);
});

test("after a quiet spell, a copytruncate is noticed through the watch alone, within a second (quiet poll of 1 h)", { timeout: 60_000 }, async (t) => {
  const { file, sidecar } = await quietSidecar(t);
  // Nothing written between copy and truncate: the truncation, then new lines.
  copyFileSync(file, `${file}.1`);
  truncateSync(file, 0);
  await sleep(200);
  appendFileSync(file, numberedLines(101, 200));
  await waitForLines(sidecar, 200, 1000);
  assert.equal(await sidecar.stop("SIGTERM"), 0);
  assertExactlyOnce(sidecar.stdout(), 200);
});

test("after a quiet spell, a deletion and a new file at the path are noticed through the watch alone, within a second (quiet poll of 1 h)", { timeout: 60_000 }, async (t) => {
  const { file, sidecar } = await quietSidecar(t);
  unlinkSync(file);
  writeFileSync(file, numberedLines(101, 200));
  await waitForLines(sidecar, 200, 1000);
  assert.equal(await sidecar.stop("SIGTERM"), 0);
  assertExactlyOnce(sidecar.stdout(), 200);
});

/** A sidecar that has read a file's first 100 lines and then seen it quiet long enough for the slow pace (poll of 1 h: only the watch can wake it). */
async function quietSidecar(t: Parameters<typeof tempDir>[0]): Promise<{ file: string; sidecar: ReturnType<typeof startSidecar> }> {
  const file = join(tempDir(t), "app.log");
  writeFileSync(file, numberedLines(1, 100));
  const sidecar = startSidecar(t, ["--file", file, "--quiet-poll-interval", "1h"]);
  await waitUntilFollowing(sidecar);
  await waitForLines(sidecar, 100, 10_000);
  await sleep(QUIET_AFTER_MS + 1500);
  return { file, sidecar };
}

// Restarts: SIGTERM drains, flushes and checkpoints (nothing lost, nothing doubled); SIGKILL loses
// nothing and doubles exactly the lines written after the last checkpoint; a file truncated, refilled
// and rotated while the sidecar was down is found by its inode and read from the start.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readdirSync, readFileSync, renameSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { assertExactlyOnce, checkSequence, describe, lineCount, numberedLines, parseNumbers, startSidecar, startWriter, tempDir, until, waitForLines, waitUntilFollowing } from "./harness.ts";

function checkpointOffset(dir: string): number {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  assert.equal(files.length, 1, `one checkpoint file in ${dir}`);
  return (JSON.parse(readFileSync(join(dir, files[0]!), "utf8")) as { offset: number }).offset;
}

test("SIGTERM mid-stream, a rotation while stopped, restart: nothing lost, nothing doubled", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const cp = join(dir, "checkpoints");
  writeFileSync(file, "");
  const args = ["--file", file, "--checkpoint-dir", cp, "--checkpoint-interval", "200ms"];
  const first = startSidecar(t, args);
  await waitUntilFollowing(first);
  const count = 120_000;
  const writer = startWriter(t, file, { count, rate: 50_000, batch: 200 });
  await waitForLines(first, 20_000, 10_000);
  assert.equal(await first.stop("SIGTERM"), 0, "SIGTERM exits 0");
  const firstOut = first.stdout();
  // While the sidecar is down the file is rotated: the rest of the old file must still be read.
  await until(() => statSync(file).size > 0, 5000, "the writer to write");
  renameSync(file, `${file}.1`);
  const second = startSidecar(t, args);
  assert.equal(await writer.done, count);
  await waitForLines(second, count - lineCount(first), 20_000);
  assert.equal(await second.stop("SIGTERM"), 0);
  const r = checkSequence(parseNumbers(Buffer.concat([firstOut, second.stdout()])), count);
  assert.ok(!r.missing.length && !r.duplicates.length && !r.firstDisorder, `exactly once across a SIGTERM restart: ${describe(r)}`);
});

test("SIGKILL mid-stream and restart: nothing lost, doubles only the lines after the last checkpoint", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const cp = join(dir, "checkpoints");
  writeFileSync(file, "");
  const args = ["--file", file, "--checkpoint-dir", cp, "--checkpoint-interval", "300ms"];
  const first = startSidecar(t, args);
  await waitUntilFollowing(first);
  const count = 120_000;
  const writer = startWriter(t, file, { count, rate: 50_000, batch: 200 });
  await waitForLines(first, 30_000, 10_000);
  await sleep(100);
  assert.equal(await first.stop("SIGKILL"), "SIGKILL");
  const firstOut = first.stdout();
  const offset = checkpointOffset(cp);
  const checkpointed = parseNumbers(readFileSync(file).subarray(0, offset)).length;
  const second = startSidecar(t, args);
  assert.equal(await writer.done, count);
  const firstLines = parseNumbers(firstOut).length;
  const expectedDuplicates = firstLines - checkpointed;
  await waitForLines(second, count - checkpointed, 20_000);
  assert.equal(await second.stop("SIGTERM"), 0);
  const r = checkSequence(parseNumbers(Buffer.concat([firstOut, second.stdout()])), count);
  assert.deepEqual(r.missing.slice(0, 5), [], `nothing lost across SIGKILL: ${describe(r)}`);
  assert.equal(r.duplicates.length, expectedDuplicates, `doubles exactly the ${expectedDuplicates} lines written after the checkpoint: ${describe(r)}`);
  assert.ok(expectedDuplicates < 50_000 * 0.3 + 10_000, `duplicates ${expectedDuplicates} bounded by one checkpoint interval of writing`);
  t.diagnostic(`checkpoint at line ${checkpointed}; ${firstLines} lines written before SIGKILL; ${expectedDuplicates} doubled after restart`);
});

test("truncated, refilled past the checkpoint and rotated while stopped: the rotated file is read from the start", { timeout: 60_000 }, async (t) => {
  // Found by the model test (seed 286495241): the checkpoint's inode sat under a rotated name with
  // other bytes, was taken for a stranger, and all of its lines were lost.
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, numberedLines(1, 676));
  const args = ["--file", file, "--checkpoint-dir", join(dir, "checkpoints")];
  const first = startSidecar(t, args);
  await waitForLines(first, 676, 10_000);
  assert.equal(await first.stop("SIGTERM"), 0);
  // While it is down: copytruncate, more lines than before, then a rename rotation.
  truncateSync(file, 0);
  appendFileSync(file, numberedLines(677, 2443));
  renameSync(file, `${file}.1`);
  const second = startSidecar(t, args);
  await waitForLines(second, 2443 - 676, 10_000);
  assert.equal(await second.stop("SIGTERM"), 0);
  assertExactlyOnce(Buffer.concat([first.stdout(), second.stdout()]), 2443);
  assert.match(second.stderr(), /file truncated, refilled and rotated while stopped/);
});

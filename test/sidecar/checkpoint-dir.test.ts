// A checkpoint directory that cannot be used: the sidecar keeps streaming, saves back off instead
// of spinning or filling stderr, and SIGTERM still ends it within --drain-timeout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { cpuSeconds, scrape, startSidecar, tempDir, until, waitForLines } from "./harness.ts";

test("a checkpoint dir mkdir cannot make though its parent exists (/proc): CPU stays low, and SIGTERM exits 0 within --drain-timeout", { timeout: 30_000 }, async (t) => {
  // Node's recursive mkdir loops forever on this (ENOENT beside an existing parent): 98 % CPU,
  // and a shutdown that waited for the save never ended.
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, "1\n2\n");
  const sidecar = startSidecar(t, ["--file", file, "--checkpoint-dir", `/proc/tailcar-checkpoints-${process.pid}`, "--checkpoint-interval", "100ms", "--drain-timeout", "1s"]);
  await waitForLines(sidecar, 2, 10_000);
  await sleep(500);
  const before = cpuSeconds(sidecar.pid);
  await sleep(3000);
  const used = cpuSeconds(sidecar.pid) - before;
  t.diagnostic(`${used.toFixed(2)} CPU-s in 3 s with the broken checkpoint dir`);
  assert.ok(used < 0.3, `${used.toFixed(2)} CPU-s in 3 s with a checkpoint dir that cannot be made`);
  const stoppedAt = Date.now();
  const code = await sidecar.stop("SIGTERM", 15_000);
  const took = Date.now() - stoppedAt;
  assert.equal(code, 0, `SIGTERM exits 0; stderr: ${sidecar.stderr().slice(-1500)}`);
  assert.ok(took < 2500, `stopping took ${took} ms with a 1 s drain timeout`);
});

test("a checkpoint dir with a file in the way: saves back off, one error line, the failures counted in a metric", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, "1\n");
  writeFileSync(join(dir, "not-a-dir"), "");
  const sidecar = startSidecar(t, ["--file", file, "--checkpoint-dir", join(dir, "not-a-dir", "cp"), "--checkpoint-interval", "50ms", "--metrics-port", "0"]);
  await waitForLines(sidecar, 1, 10_000);
  await until(() => sidecar.metricsPort() !== undefined, 5000, "the metrics port");
  await sleep(3000);
  const failures = await scrape(sidecar.metricsPort()!, "tailcar_sidecar_checkpoint_save_failures_total");
  // (The warning that the checkpoint cannot be read at start-up comes once, before any save.)
  const lines = sidecar.diagnostics().filter((d) => (d.level === "error" || d.level === "warn") && !String(d.msg).startsWith("cannot read checkpoint"));
  t.diagnostic(`${failures} failed saves, ${lines.length} warn/error lines in 3 s at a 50 ms interval`);
  // Every 50 ms for 3 s would be 60; doubling from 50 ms, about 6.
  assert.ok(failures >= 1 && failures <= 8, `${failures} failed saves in 3 s`);
  assert.equal(lines.length, 1, `one line for the broken directory: ${JSON.stringify(lines)}`);
  assert.equal(lines[0]!.msg, "cannot save checkpoints: retrying with backoff");
  assert.match(String(lines[0]!.error), /ENOTDIR/);
  assert.equal(await sidecar.stop("SIGTERM"), 0);
});

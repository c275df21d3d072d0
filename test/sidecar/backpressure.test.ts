// A slow or blocked stdout: the sidecar stops reading (memory stays bounded), catches up when the
// reader returns, stops within --drain-timeout on SIGTERM while blocked, and exits cleanly on EPIPE.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { assertExactlyOnce, memoryKb, startSidecar, startWriter, tempDir, until, waitForLines } from "./harness.ts";

for (const kind of ["pipe", "socket"] as const) {
  test(`stdout (a ${kind}) paused 10 s while the file grows by 64 MiB: memory stays bounded, then every line arrives once`, { timeout: 90_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    writeFileSync(file, "");
    const sidecar = startSidecar(t, ["--file", file], {}, kind);
    await until(() => sidecar.diagnostics().some((d) => d.msg === "following file"), 5000, "the sidecar to start");
    sidecar.pauseOutput();
    await sleep(300);
    const before = memoryKb(sidecar.pid);
    const count = 500_000; // 134 B a line: 64 MiB in 10 s
    const writer = startWriter(t, file, { count, rate: 50_000, batch: 1000, pad: 127 });
    let peak = before;
    const started = Date.now();
    while (Date.now() - started < 10_000) {
      await sleep(250);
      const m = memoryKb(sidecar.pid);
      if (m.rss > peak.rss) peak = m;
    }
    assert.equal(await writer.done, count);
    const growthMiB = (peak.rss - before.rss) / 1024;
    t.diagnostic(`RSS ${(before.rss / 1024).toFixed(1)} MiB before, peak ${(peak.rss / 1024).toFixed(1)} MiB while blocked (+${growthMiB.toFixed(1)} MiB); anonymous ${(before.anonymous / 1024).toFixed(1)} → ${(peak.anonymous / 1024).toFixed(1)} MiB`);
    assert.ok(growthMiB <= 8, `RSS grew ${growthMiB.toFixed(1)} MiB while stdout was blocked and 64 MiB were written`);
    sidecar.resumeOutput();
    await waitForLines(sidecar, count, 40_000);
    assert.equal(await sidecar.stop(), 0);
    assertExactlyOnce(sidecar.stdout(), count);
  });
}

test("SIGTERM while stdout is blocked: the checkpoint holds only what was written, then the process ends itself by SIGKILL within --drain-timeout", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const cp = join(dir, "cp");
  let text = "";
  for (let i = 1; i <= 200_000; i++) text += `${i} ${"x".repeat(60)}\n`;
  writeFileSync(file, text);
  const sidecar = startSidecar(t, ["--file", file, "--checkpoint-dir", cp, "--drain-timeout", "1s"]);
  sidecar.pauseOutput();
  await until(() => sidecar.diagnostics().some((d) => d.msg === "following file"), 5000, "the sidecar to start");
  await sleep(500);
  const stoppedAt = Date.now();
  // A write parked in a full pipe cannot be abandoned, and exit would wait for it (sidecar/fd-sink.ts).
  assert.equal(await sidecar.stop("SIGTERM", 10_000), "SIGKILL");
  assert.ok(sidecar.diagnostics().some((d) => d.level === "warn" && String(d.msg).startsWith("stdout is still blocked after the drain timeout")), `the forced end is explained on stderr: ${sidecar.stderr()}`);
  const took = Date.now() - stoppedAt;
  assert.ok(took < 4000, `stopping took ${took} ms with a 1 s drain timeout`);
  const saved = JSON.parse(readFileSync(join(cp, readdirSync(cp)[0]!), "utf8")) as { offset: number };
  const delivered = sidecar.stdout().length;
  assert.ok(saved.offset <= delivered + 256 * 1024, `checkpoint ${saved.offset} is not far past what reached the pipe (${delivered} B read by us, plus pipe buffers)`);
  assert.ok(saved.offset < text.length, "the checkpoint does not claim unwritten lines");
  assert.equal(saved.offset === 0 ? "\n" : text[saved.offset - 1], "\n", "the checkpoint is at a line boundary");
});

for (const kind of ["pipe", "socket"] as const) {
  test(`EPIPE (the reader of stdout, a ${kind}, went away) ends the sidecar cleanly with a message`, { timeout: 20_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    writeFileSync(file, "1\n");
    const sidecar = startSidecar(t, ["--file", file, "--poll-interval", "100ms"], {}, kind);
    await waitForLines(sidecar, 1, 5000);
    sidecar.closeOutput();
    for (let i = 0; i < 50 && sidecar.child.exitCode === null; i++) {
      appendFileSync(file, `${i}\n`);
      await sleep(50);
    }
    assert.equal(await sidecar.exited, 0);
    assert.ok(sidecar.diagnostics().some((d) => String(d.msg).includes("stdout is closed (EPIPE)")), `EPIPE named on stderr: ${sidecar.stderr()}`);
  });
}

// A slow or blocked stdout: the sidecar stops reading (memory stays bounded), catches up when the
// reader returns, stops within --drain-timeout on SIGTERM while blocked, and exits cleanly on EPIPE.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
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

for (const format of ["raw", "json"] as const) {
  test(`SIGTERM while stdout is blocked (${format}): the process ends itself by SIGKILL within --drain-timeout, and across a restart the reader gets every line exactly once, none cut`, { timeout: 40_000 }, async (t) => {
    // The reader reads nothing until the sidecar is gone. The pipe (64 KiB) took part of the one
    // batch, ending inside a line: the checkpoint must hold exactly that, or the restart sends it
    // all again after a line cut in half.
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const cp = join(dir, "cp");
    const lines = Array.from({ length: 4000 }, (_, i) => `${i + 1} ${"x".repeat(25)}`);
    const text = lines.join("\n") + "\n";
    writeFileSync(file, text);
    const args = ["--file", file, "--checkpoint-dir", cp, "--drain-timeout", "1s", "--format", format];
    const first = startSidecar(t, args, {}, "unread-pipe");
    await until(() => first.diagnostics().some((d) => d.msg === "following file"), 5000, "the sidecar to start");
    await sleep(500);
    const stoppedAt = Date.now();
    // A write parked in a full pipe cannot be abandoned, and exit would wait for it (sidecar/fd-sink.ts).
    assert.equal(await first.stop("SIGTERM", 10_000), "SIGKILL");
    const took = Date.now() - stoppedAt;
    assert.ok(took < 2500, `stopping took ${took} ms with a 1 s drain timeout`);
    assert.ok(first.diagnostics().some((d) => d.level === "warn" && String(d.msg).startsWith("stdout is still blocked after the drain timeout")), `the forced end is explained on stderr: ${first.stderr()}`);
    first.resumeOutput();
    await first.outputEnded;
    const second = startSidecar(t, args);
    const firstOut = first.stdout();
    assert.ok(firstOut.length > 0 && firstOut.length < (format === "raw" ? text.length : Infinity), `the first run wrote part of the file (${firstOut.length} B)`);
    await until(() => Buffer.concat([firstOut, second.stdout()]).toString().split("\n").length > lines.length, 10_000, () => `every line after the restart; stderr: ${second.stderr()}`);
    assert.equal(await second.stop("SIGTERM"), 0);
    const stream = Buffer.concat([firstOut, second.stdout()]).toString();
    if (format === "raw") {
      assert.ok(stream === text, `the reader's stream is the file's bytes once each (${stream.length} B for ${text.length})`);
    } else {
      const records = stream.split("\n");
      assert.equal(records.pop(), "", "the stream ends with a whole record");
      const logs = records.map((r, i) => {
        try {
          return (JSON.parse(r) as { log: string }).log;
        } catch {
          throw new Error(`record ${i + 1} is cut: ${JSON.stringify(r.slice(0, 120))}`);
        }
      });
      assert.deepEqual(logs, lines, "one whole record per line of the file, once each, in order");
    }
  });
}

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

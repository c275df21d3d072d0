// The backend goes away and comes back: the sidecar retries while the file holds the lines, and
// nothing is lost. VictoriaLogs ignores _id, so a request cut off mid-way can store some lines
// twice: those duplicates are counted and bounded by one request's worth.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, test } from "node:test";
import { freePort, startVictoriaLogs } from "../../localcluster/backend/victorialogs.ts";
import { buildBackend, endpointFor, sinkSummary, missingNumbers, startSidecar, tally, tempDir, waitForLines, writeNumbered, type SinkKind } from "./forward-helpers.ts";

before(buildBackend.fn, buildBackend.options);

const SINKS = ["elasticsearch", "loki", "otlp"] as const satisfies readonly SinkKind[];

function warnings(stderr: string): string[] {
  return stderr.split("\n").filter((l) => l.includes("backend did not accept lines"));
}

for (const sink of SINKS) {
  test(`${sink}: a backend that is down at start receives every line once it is up`, { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const port = await freePort();
    const tag = `down-${sink}`;
    writeNumbered(file, tag, 0, 20_000);
    const sidecar = startSidecar(t, ["--file", file, "--sink", sink, "--endpoint", endpointFor(sink, `http://127.0.0.1:${port}`), "--poll-interval", "50ms"]);
    await new Promise((r) => setTimeout(r, 2500));
    writeNumbered(file, tag, 20_000, 30_000);
    // Retries every 0.25 s doubling towards 30 s: in 2.5 s several attempts, but one warning line.
    const before = warnings(sidecar.stderr());
    assert.equal(before.length, 1, `expected one rate-limited warning, got:\n${sidecar.stderr()}`);
    assert.match(before[0]!, /ECONNREFUSED/);

    const vl = await startVictoriaLogs({ port });
    t.after(() => vl.dispose());
    const got = await waitForLines(vl.url, 30_000, 40_000);
    if (got.distinct !== 30_000) assert.fail(`${30_000 - got.distinct} lines missing; first: ${(await missingNumbers(vl.url, tag, 30_000)).join(", ")}`);
    assert.equal(got.total, 30_000, "nothing was accepted before the backend came up, so nothing may be doubled");
    assert.match(sidecar.stderr(), /backend accepts again/);
    assert.equal(await sidecar.stop(), 0);
  });

  test(`${sink}: a backend stopped mid-stream and restarted loses nothing`, { timeout: 90_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const dataDir = mkdtempSync(join(tmpdir(), "tailcar-vl-keep-"));
    t.after(() => rmSync(dataDir, { recursive: true, force: true }));
    const tag = `restart-${sink}`;
    const total = 60_000;
    let vl = await startVictoriaLogs({ dataDir });
    const port = vl.port;
    t.after(() => vl.dispose());
    const sidecar = startSidecar(t, ["--file", file, "--sink", sink, "--endpoint", endpointFor(sink, vl.url), "--poll-interval", "50ms"]);
    // A writer that keeps going across the outage: 10,000 lines/s for 6 s.
    let written = 0;
    const writer = setInterval(() => {
      if (written >= total) return;
      writeNumbered(file, tag, written, written + 1000);
      written += 1000;
    }, 100);
    t.after(() => clearInterval(writer));
    for (let i = 0; i < 400 && (await tally(vl.url)).total < 5000; i++) await new Promise((r) => setTimeout(r, 25));
    await vl.stop(); // SIGTERM: VictoriaLogs keeps what it acknowledged; requests in flight are cut off
    const stoppedAt = written;
    assert.ok(stoppedAt < total, "the writer finished before the backend stopped: no outage mid-stream");
    await new Promise((r) => setTimeout(r, 2000));
    vl = await startVictoriaLogs({ port, dataDir });
    for (let i = 0; i < 400 && written < total; i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(warnings(sidecar.stderr()).length >= 1, `no warning about the stopped backend:\n${sidecar.stderr()}`);
    clearInterval(writer);
    assert.equal(written, total, "the writer did not finish");

    const got = await waitForLines(vl.url, total, 60_000);
    const duplicates = got.total - got.distinct;
    t.diagnostic(`${sink}: stopped after ${stoppedAt} written; ${got.distinct} distinct of ${total}, ${duplicates} duplicates`);
    if (got.distinct !== total) assert.fail(`${total - got.distinct} lines missing; first: ${(await missingNumbers(vl.url, tag, total)).join(", ")}`);
    // At most the request in flight when the backend stopped (the sink's batches hold ≤ 10,000 lines).
    assert.ok(duplicates <= 10_000, `${duplicates} duplicates: more than one request's worth`);
    assert.equal(await sidecar.stop(), 0);
    const summary = sinkSummary(sidecar.stderr());
    assert.ok(summary, `no "forwarding stopped" summary on stderr:\n${sidecar.stderr()}`);
    t.diagnostic(`sink summary: ${JSON.stringify(summary)}`);
    assert.ok(duplicates <= summary.linesResent!, `${duplicates} duplicates, but the sink reports only ${summary.linesResent} lines resent`);
  });
}

test("elasticsearch: SIGTERM while the backend is down exits within the drain timeout, and a restart sends only what was not acknowledged", { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const cp = join(dir, "cp");
  const dataDir = mkdtempSync(join(tmpdir(), "tailcar-vl-keep-"));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const tag = "sigterm-es";
  let vl = await startVictoriaLogs({ dataDir });
  const port = vl.port;
  t.after(() => vl.dispose());
  const args = ["--file", file, "--sink", "elasticsearch", "--endpoint", endpointFor("elasticsearch", vl.url), "--checkpoint-dir", cp, "--drain-timeout", "1s", "--poll-interval", "50ms"];
  writeNumbered(file, tag, 0, 10_000);
  const first = startSidecar(t, args);
  assert.equal((await waitForLines(vl.url, 10_000, 30_000)).distinct, 10_000, "the first 10,000 lines did not arrive");
  await vl.stop();
  writeNumbered(file, tag, 10_000, 20_000);
  await new Promise((r) => setTimeout(r, 500)); // the sidecar reads them and starts retrying
  const stopping = Date.now();
  assert.equal(await first.stop(), 0, first.stderr());
  const stopMs = Date.now() - stopping;
  assert.ok(stopMs < 4000, `SIGTERM took ${stopMs} ms with a 1 s drain timeout`);

  vl = await startVictoriaLogs({ port, dataDir });
  const second = startSidecar(t, args);
  const got = await waitForLines(vl.url, 20_000, 40_000);
  t.diagnostic(`stopped in ${stopMs} ms; after restart ${got.distinct} distinct, ${got.total} stored`);
  if (got.distinct !== 20_000) assert.fail(`${20_000 - got.distinct} lines missing; first: ${(await missingNumbers(vl.url, tag, 20_000)).join(", ")}`);
  assert.equal(got.total, 20_000, "the restart resent lines the backend had acknowledged");
  assert.equal(await second.stop(), 0);
});

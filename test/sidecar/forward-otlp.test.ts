// What only the OTLP output has: VictoriaLogs' own 400 for a request it cannot decode, and the OTLP
// partial success. The rest (every line once, outages, credentials) runs for all outputs in
// forward.test.ts, forward-outage.test.ts and forward-auth.test.ts.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { before, test } from "node:test";
import { query, startVictoriaLogs } from "../../localcluster/backend/victorialogs.ts";
import { parseSidecarConfig } from "../../sidecar/config.ts";
import { createSink } from "../../sidecar/sinks/index.ts";
import { body, buildBackend, endpointFor, metricValue, scrapeMetrics, startSidecar, tempDir, waitForLines, writeNumbered } from "./forward-helpers.ts";

before(buildBackend.fn, buildBackend.options);

async function listen(t: { after(fn: () => Promise<void>): void }, server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const addr = server.address();
  return `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`;
}

test("otlp: a request VictoriaLogs answers 400 is split until the bad line is alone; only it is dropped and counted, every other line stored once", { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const vl = await startVictoriaLogs();
  t.after(() => vl.dispose());
  // Between the sidecar and VictoriaLogs: a request holding the poison line loses its last byte,
  // so VictoriaLogs itself cannot decode it and answers 400 (as it would a corrupt body).
  const statuses: number[] = [];
  const proxy = createServer((req, res) => {
    void body(req).then(async (b) => {
      const sent = b.includes("POISON") ? b.subarray(0, b.length - 1) : b;
      const answer = await fetch(`${vl.url}${req.url ?? "/"}`, { method: "POST", body: sent, headers: { "Content-Type": req.headers["content-type"] ?? "" } });
      statuses.push(answer.status);
      res.writeHead(answer.status, { "Content-Type": answer.headers.get("content-type") ?? "text/plain" });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  const proxyUrl = await listen(t, proxy);
  const tag = "bad-otlp";
  writeNumbered(file, tag, 0, 500);
  writeNumbered(file, "POISON", 500, 501);
  writeNumbered(file, tag, 501, 1000);
  const sidecar = startSidecar(t, ["--file", file, "--sink", "otlp", "--endpoint", endpointFor("otlp", proxyUrl), "--poll-interval", "50ms", "--metrics-port", "0"]);
  const got = await waitForLines(vl.url, 999, 40_000);
  assert.equal(got.distinct, 999, sidecar.stderr());
  assert.equal(got.total, 999, "a good line stored twice");
  assert.deepEqual(await query(vl.url, "POISON | fields _msg"), [], "the bad line is not stored");
  assert.ok(statuses.includes(400), `VictoriaLogs never answered 400: ${statuses.join(",")}`);
  const dropped = sidecar.stderr().split("\n").filter((l) => l.includes("backend rejected lines; dropped"));
  assert.equal(dropped.length, 1, sidecar.stderr());
  assert.match(dropped[0]!, /"sink":"otlp".*"lines":1,"status":400,"reason":"HTTP 400: .*cannot decode/);
  const metrics = await scrapeMetrics(sidecar);
  assert.equal(metricValue(metrics, 'tailcar_sidecar_sink_dropped_lines_total{sink="otlp"}'), 1, metrics);
  // One request with the poison, then halves: about 2·log2(1000) requests, not one per line.
  t.diagnostic(`VictoriaLogs answered ${statuses.filter((s) => s === 400).length} × 400 in ${statuses.length} requests`);
  assert.ok(statuses.length <= 40, `${statuses.length} requests`);
  assert.equal(await sidecar.stop(), 0, sidecar.stderr());
});

test("otlp: a partial success drops and reports the records the backend rejected, and does not send them again", { timeout: 10_000 }, async (t) => {
  const requests: Buffer[] = [];
  const server = createServer((req, res) => {
    void body(req).then((b) => {
      requests.push(b);
      // ExportLogsServiceResponse { partial_success { rejected_log_records: 2, error_message: "too old" } }
      const message = Buffer.from("too old");
      const inner = Buffer.concat([Buffer.from([0x08, 2, 0x12, message.length]), message]);
      res.writeHead(200, { "Content-Type": "application/x-protobuf" });
      res.end(Buffer.concat([Buffer.from([0x0a, inner.length]), inner]));
    });
  });
  const url = await listen(t, server);
  const messages: string[] = [];
  const config = parseSidecarConfig(["--file", "/var/log/a.log", "--sink", "otlp", "--endpoint", url], {});
  const sink = createSink(config, {}, { retry: { initialMs: 10, maxMs: 40, requestTimeoutMs: 5000 }, emit: (level, msg, f) => messages.push(`${level} ${msg} ${JSON.stringify(f)}`) })!;
  t.after(() => sink.close());
  await sink.write({ file: "/var/log/a.log", fileKey: "1:2:3", data: Buffer.from("a\nb\nc\nd\ne\n"), startOffset: 0 });
  assert.equal(requests.length, 1, "a partial success is not retried");
  assert.deepEqual([sink.stats.linesAcked, sink.stats.linesDropped], [3, 2]);
  assert.match(messages.join("\n"), /error backend rejected lines; dropped .*"sink":"otlp".*"lines":2,"status":200,"reason":"partial success: too old"/);
});

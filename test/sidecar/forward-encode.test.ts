// The pure parts of the forwarding sinks: framing, escaping, ids, answers, backoff.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { DEFAULT_INDEX, bulkItem, documentId, itemOutcome, parseBulkResponse } from "../../sidecar/sinks/elasticsearch-encode.ts";
import { DEFAULT_RETRY, FailureReporter, backoffMs, httpVerdict } from "../../sidecar/sinks/http-retry.ts";
import { apiUrl, elasticsearchIndex } from "../../sidecar/sinks/index.ts";
import { lokiLabels, pushBody } from "../../sidecar/sinks/loki-encode.ts";
import { NanoClock, isoNanos, splitLines, type LineSource } from "../../sidecar/sinks/records.ts";
import { requestTarget } from "../../settings/url-credentials.ts";
import { LINE_CONTINUES_MARKER, frameLines } from "../../sidecar/framing.ts";

const source: LineSource = { file: "/var/log/app.log", fileKey: "2049:1234:1700000000000000000", pod: { podName: "app-1", podNamespace: "shop", containerName: "app-log" } };
const T = 1_700_000_000_123_456_789n;

test("splitLines keeps bytes, offsets and order; a fragment without newline is a line too", () => {
  const clock = new NanoClock(() => T);
  const data = Buffer.concat([Buffer.from("a\n\ntré\r\n"), Buffer.from([0xff]), Buffer.from("-tail")]);
  const lines = splitLines(data, 100, clock);
  assert.deepEqual(
    lines.map((l) => [l.text, l.offset]),
    [["a", 100], ["", 102], ["tré\r", 103], ["\ufffd-tail", 109]],
  );
  assert.deepEqual(lines.map((l) => l.timeNs - T), [0n, 1n, 2n, 3n], "one clock reading per line, strictly increasing");
  assert.equal(splitLines(Buffer.from("x\n"), undefined, clock)[0]!.offset, undefined);
});

test("splitLines gives pieces of a split long line, and the lines after them, their file offsets: the same ids and times whether the batch began before the long line or after it", () => {
  const clock = new NanoClock(() => T);
  // The file "abcdefghij\nxy\n" read with --max-line-bytes 4, as framing.ts writes it.
  const { out } = frameLines(Buffer.from("abcdefghij\nxy\n"), 4);
  assert.equal(out.toString(), `abcd${LINE_CONTINUES_MARKER}\nefgh${LINE_CONTINUES_MARKER}\nij\nxy\n`);
  const times = { from: 0, ns: T };
  const lines = splitLines(out, 1000, clock, times, 4);
  assert.deepEqual(lines.map((l) => [l.text.slice(0, 4), l.offset, l.timeNs - T]), [["abcd", 1000, 1000n], ["efgh", 1004, 1004n], ["ij", 1008, 1008n], ["xy", 1011, 1011n]]);
  // Read again from "xy" (a batch boundary in the first run): the same offset, so the same _id and time.
  const again = splitLines(Buffer.from("xy\n"), 1011, clock, times, 4);
  assert.deepEqual([again[0]!.offset, again[0]!.timeNs], [lines[3]!.offset, lines[3]!.timeNs]);
  assert.equal(bulkItem(again[0]!, source, DEFAULT_INDEX), bulkItem(lines[3]!, source, DEFAULT_INDEX));
});

test("NanoClock never repeats or goes backwards, even when the wall clock does", () => {
  const readings = [5n, 5n, 3n, 10n];
  const clock = new NanoClock(() => readings.shift()!);
  assert.deepEqual([clock.next(), clock.next(), clock.next(), clock.next()], [5n, 6n, 7n, 10n]);
});

test("isoNanos writes RFC 3339 with nine fraction digits", () => {
  for (const [ns, iso] of [
    [T, "2023-11-14T22:13:20.123456789Z"],
    [0n, "1970-01-01T00:00:00.000000000Z"],
    [1_000_000_001n, "1970-01-01T00:00:01.000000001Z"],
  ] as const) assert.equal(isoNanos(ns), iso);
});

test("bulkItem frames one action line and one document line, escaping what JSON needs", () => {
  const nasty = ['quote " backslash \\ tab \t', "\u0000\u001f\u2028", "😀 é", "{\"json\":true}", "\ud800 lone surrogate"];
  for (const text of nasty) {
    const item = bulkItem({ text, offset: 42, timeNs: T }, source, DEFAULT_INDEX);
    const parts = item.split("\n");
    assert.equal(parts.length, 3, `exactly two lines, each ending "\\n": ${JSON.stringify(item)}`);
    assert.equal(parts[2], "");
    const action = JSON.parse(parts[0]!);
    assert.deepEqual(action, { create: { _index: "tailcar-logs", _id: documentId({ ...source, fileKey: source.fileKey! }, 42) } });
    const doc = JSON.parse(parts[1]!);
    assert.deepEqual(doc, {
      "@timestamp": "2023-11-14T22:13:20.123456789Z",
      message: text,
      file: "/var/log/app.log",
      offset: 42,
      pod: "app-1",
      namespace: "shop",
      container: "app-log",
    });
  }
});

test("bulkItem round-trips any text through JSON (property)", () => {
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), (text) => {
      const doc = JSON.parse(bulkItem({ text, offset: 0, timeNs: T }, source, "i").split("\n")[1]!) as { message: string };
      return doc.message === text;
    }),
    { numRuns: 200 },
  );
});

test("document ids: same line of the same file → same id; another offset, file incarnation or pod → another", () => {
  const id = (s: LineSource, offset: number) => documentId({ ...s, fileKey: s.fileKey! }, offset);
  assert.equal(id(source, 7), id({ ...source }, 7));
  const others = [id(source, 8), id({ ...source, fileKey: "2049:1234:1700000000000000001" }, 7), id({ ...source, pod: { ...source.pod, podName: "app-2" } }, 7)];
  assert.equal(new Set([id(source, 7), ...others]).size, 4);
  const noKey = bulkItem({ text: "x", offset: 7, timeNs: T }, { ...source, fileKey: undefined }, "i");
  assert.deepEqual(JSON.parse(noKey.split("\n")[0]!), { create: { _index: "i" } }, "without a file identity the backend picks the id");
});

test("parseBulkResponse: per-item outcomes", () => {
  const cases: { name: string; body: string; sent: number; want: unknown }[] = [
    { name: "no errors", body: '{"took":1,"errors":false,"items":[{"create":{"status":201}}]}', sent: 2, want: { ok: true, kinds: ["ok", "ok"] } },
    {
      name: "mixed",
      body: JSON.stringify({
        errors: true,
        items: [
          { create: { status: 201 } },
          { create: { status: 409, error: { type: "version_conflict_engine_exception", reason: "exists" } } },
          { create: { status: 429, error: { type: "es_rejected_execution_exception", reason: "queue full" } } },
          { create: { status: 400, error: { type: "mapper_parsing_exception", reason: "bad field" } } },
          { index: { status: 503, error: "unavailable" } },
        ],
      }),
      sent: 5,
      want: { ok: true, kinds: ["ok", "ok(dup)", "retry 429 es_rejected_execution_exception: queue full", "drop 400 mapper_parsing_exception: bad field", "retry 503 unavailable"] },
    },
    { name: "not JSON", body: "<html>bad gateway</html>", sent: 1, want: { ok: false, error: /not JSON/ } },
    { name: "errors without items", body: '{"errors":true}', sent: 1, want: { ok: false, error: /no "items"/ } },
    { name: "item count mismatch", body: '{"errors":true,"items":[{"create":{"status":201}}]}', sent: 2, want: { ok: false, error: /1 items for 2 sent/ } },
    { name: "item without status", body: '{"errors":true,"items":[{"create":{}}]}', sent: 1, want: { ok: true, kinds: ["retry 0 item without a status"] } },
  ];
  for (const c of cases) {
    const got = parseBulkResponse(c.body, c.sent);
    const want = c.want as { ok: boolean; kinds?: string[]; error?: RegExp };
    assert.equal(got.ok, want.ok, c.name);
    if (got.ok) {
      const kinds = got.items.map((i) => (i.kind === "ok" ? (i.duplicate ? "ok(dup)" : "ok") : `${i.kind} ${i.status} ${i.reason}`));
      assert.deepEqual(kinds, want.kinds, c.name);
    } else assert.match(got.error, want.error!, c.name);
  }
});

test("itemOutcome and httpVerdict: what is retried, split or dropped", () => {
  const items: [number, string][] = [[200, "ok"], [201, "ok"], [409, "ok"], [429, "retry"], [500, "retry"], [503, "retry"], [401, "retry"], [403, "retry"], [400, "drop"], [404, "drop"]];
  for (const [status, kind] of items) assert.equal(itemOutcome(status, "r").kind, kind, `item ${status}`);
  const verdicts: [number, string][] = [[200, "ok"], [204, "ok"], [400, "split"], [413, "split"], [422, "split"], [401, "denied"], [403, "denied"], [404, "retry"], [408, "retry"], [429, "retry"], [500, "retry"], [502, "retry"], [302, "retry"]];
  for (const [status, verdict] of verdicts) assert.equal(httpVerdict(status), verdict, `HTTP ${status}`);
});

test("Loki push body: one labelled stream, nanosecond string timestamps in order, escaped lines", () => {
  const lines = [
    { text: 'first "one"', offset: 0, timeNs: T },
    { text: "second\ttwo", offset: 12, timeNs: T + 1n },
  ];
  assert.deepEqual(JSON.parse(pushBody(lines, source)), {
    streams: [
      {
        stream: { job: "tailcar", file: "/var/log/app.log", namespace: "shop", pod: "app-1", container: "app-log" },
        values: [["1700000000123456789", 'first "one"'], ["1700000000123456790", "second\ttwo"]],
      },
    ],
  });
  assert.deepEqual(lokiLabels({ file: "/f", fileKey: undefined, pod: {} }), { job: "tailcar", file: "/f" }, "no empty labels for missing pod metadata");
});

test("apiUrl appends the API path to the endpoint once; the endpoint's credentials become a basic-auth header", () => {
  const cases: [string, string, string][] = [
    ["http://es:9200", "/_bulk", "http://es:9200/_bulk"],
    ["http://es:9200/", "/_bulk", "http://es:9200/_bulk"],
    ["http://vl:9428/insert/elasticsearch/", "/_bulk", "http://vl:9428/insert/elasticsearch/_bulk"],
    ["http://es:9200/_bulk", "/_bulk", "http://es:9200/_bulk"],
    ["http://loki:3100", "/loki/api/v1/push", "http://loki:3100/loki/api/v1/push"],
    ["http://vl:9428/insert", "/loki/api/v1/push", "http://vl:9428/insert/loki/api/v1/push"],
  ];
  for (const [endpoint, path, want] of cases) assert.equal(apiUrl(endpoint, path), want, endpoint);
  // fetch refuses a URL with credentials: they go to a header, and what is shown hides the password.
  assert.deepEqual(requestTarget(apiUrl("https://u:p@es:9200/x?pipeline=p", "/_bulk")), {
    url: "https://es:9200/x/_bulk?pipeline=p",
    shown: "https://u:***@es:9200/x/_bulk?pipeline=p",
    headers: { Authorization: `Basic ${Buffer.from("u:p").toString("base64")}` },
  });
  assert.equal(elasticsearchIndex({}), "tailcar-logs");
  assert.equal(elasticsearchIndex({ TAILCAR_ES_INDEX: "logs-shop" }), "logs-shop");
});

test("backoff doubles from 250 ms to a 30 s cap, with half of it random", () => {
  const at = (attempt: number, r: number) => backoffMs(attempt, DEFAULT_RETRY, r);
  assert.deepEqual([0, 1, 2, 3].map((a) => at(a, 1)), [250, 500, 1000, 2000]);
  assert.deepEqual([0, 1, 2].map((a) => at(a, 0)), [125, 250, 500]);
  assert.equal(at(20, 1), 30_000);
  assert.equal(at(1000, 0), 15_000, "huge attempt counts stay finite");
});

test("FailureReporter: one line for the first failure, then at most one per period, and one on recovery", () => {
  const out: string[] = [];
  let now = 0;
  const r = new FailureReporter((level, msg, f) => out.push(`${level} ${msg} ${f.failures ?? ""}/${f.since_last_report ?? ""}`), 30_000, () => now);
  for (let i = 0; i < 10; i++) {
    r.failure("down", {});
    now += 5000;
  }
  r.success({});
  r.success({});
  assert.deepEqual(out, ["warn down 1/1", "warn down 7/6", "info backend accepts again 10/"]);
});

test("FailureReporter: a new kind of failure is reported at once, at its own level, and each kind at most once per period", () => {
  const out: string[] = [];
  let now = 0;
  const r = new FailureReporter((level, msg, f) => out.push(`${level} ${msg} ${f.failures ?? ""}`), 30_000, () => now);
  r.failure("down", {});
  now += 1000;
  r.failure("denied", {}, "error");
  for (let i = 0; i < 20; i++) {
    now += 1000;
    r.failure(i % 2 === 0 ? "denied" : "down", {}, i % 2 === 0 ? "error" : "warn");
  }
  assert.deepEqual(out, ["warn down 1", "error denied 2"]);
});

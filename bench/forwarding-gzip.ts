// What gzip request bodies (--compression gzip) cost and save, in-process: each output's request
// bodies encoded as the sinks encode them, then gzipped as the sink does (zlib level GZIP_LEVEL) and
// at level 6 for comparison; bytes per line and CPU per line. Two kinds of 200-byte line: the
// forwarding benchmark's (a number padded with "x", which compresses far better than logs do) and
// access-log lines (addresses, paths, statuses, sizes, agents and times varying, from a seeded
// generator). The end-to-end CPU with and without gzip comes from bench/forwarding.ts run with
// TAILCAR_COMPRESSION=gzip in the sidecar's environment (docs/decisions.md).
// Usage: node bench/forwarding-gzip.ts [--quick]
import { gzipSync } from "node:zlib";
import { GZIP_LEVEL } from "../sidecar/sinks/http-protocol.ts";
import { bulkItem, DEFAULT_INDEX } from "../sidecar/sinks/elasticsearch-encode.ts";
import { pushBody } from "../sidecar/sinks/loki-encode.ts";
import { exportLogsRequest } from "../sidecar/sinks/otlp-encode.ts";
import { NanoClock, splitLines, type LineSource } from "../sidecar/sinks/records.ts";
import { benchArgs } from "./tool-args.ts";

const { quick } = benchArgs("forwarding-gzip");
const LINE_BYTES = 200;
/** One request of a forwarding sidecar: a 1 MiB read's lines, sent under the 1 MiB batch limit (forwarding.md). */
const BATCH_LINES = 3_900;
const BATCHES = quick ? 8 : 40;
const SOURCE: LineSource = { file: "/var/log/app/access.log", fileKey: "2049:131:1733400000", pod: { podName: "shop-api-7d9f8b6c5d-x2k4q", podNamespace: "shop", nodeName: "node-a-1", containerName: "access-log" } };

function benchRowLines(from: number, count: number): Buffer {
  const buf = Buffer.alloc(count * LINE_BYTES, "x");
  for (let i = 0; i < count; i++) {
    buf.write(`fwd ${String(from + i).padStart(9, "0")} `, i * LINE_BYTES, "latin1");
    buf[i * LINE_BYTES + LINE_BYTES - 1] = 0x0a;
  }
  return buf;
}

/** A seeded generator (mulberry32): the same lines every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PATHS = ["/api/v1/orders", "/api/v1/orders/{id}", "/api/v1/cart", "/api/v1/users/{id}/profile", "/static/app.{id}.js", "/healthz", "/api/v1/search?q={id}", "/api/v2/payments/{id}/capture"];
const AGENTS = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36", "kube-probe/1.31", "okhttp/4.12.0", "curl/8.5.0", "Go-http-client/2.0", "python-requests/2.32.3"];
const METHODS = ["GET", "GET", "GET", "POST", "PUT", "DELETE"];
const STATUSES = [200, 200, 200, 200, 201, 204, 304, 400, 404, 500];

/** Access-log lines (nginx combined, padded or cut to 200 bytes with the newline). */
function accessLogLines(count: number, next: () => number): Buffer {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const out = Buffer.alloc(count * LINE_BYTES, " ");
  let t = Date.UTC(2026, 11, 5, 10, 0, 0);
  for (let i = 0; i < count; i++) {
    t += Math.floor(next() * 40);
    const ip = `10.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}.${Math.floor(next() * 256)}`;
    const path = pick(PATHS).replace("{id}", Math.floor(next() * 1e8).toString(36));
    const line = `${ip} - - [${new Date(t).toISOString()}] "${pick(METHODS)} ${path} HTTP/1.1" ${pick(STATUSES)} ${Math.floor(next() * 50_000)} "-" "${pick(AGENTS)}" rt=${(next() * 2).toFixed(3)} req=${Math.floor(next() * 2 ** 48).toString(16)}`;
    out.write(line.slice(0, LINE_BYTES - 1), i * LINE_BYTES, "latin1");
    out[i * LINE_BYTES + LINE_BYTES - 1] = 0x0a;
  }
  return out;
}

const ENCODERS = {
  elasticsearch: (lines: ReturnType<typeof splitLines>) => lines.map((l) => bulkItem(l, SOURCE, DEFAULT_INDEX)).join(""),
  loki: (lines: ReturnType<typeof splitLines>) => pushBody(lines, SOURCE),
  otlp: (lines: ReturnType<typeof splitLines>) => exportLogsRequest(lines, SOURCE),
} as const;

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

interface Row { data: string; sink: string; rawPerLine: number; gzPerLine: number; gz6PerLine: number; encodeUs: number; gzipUs: number; gzip6Us: number }

const rows: Row[] = [];
for (const [data, make] of [["bench row", (b: number) => benchRowLines(b * BATCH_LINES, BATCH_LINES)], ["access log", ((next) => () => accessLogLines(BATCH_LINES, next))(random(18))]] as const) {
  const batches = Array.from({ length: BATCHES }, (_, b) => splitLines(make(b), 0, new NanoClock()));
  for (const [sink, encode] of Object.entries(ENCODERS)) {
    // A warm-up batch: the first calls compile.
    gzipSync(encode(batches[0]!), { level: GZIP_LEVEL });
    let t = cpuUs();
    const bodies = batches.map((lines) => encode(lines));
    const encodeUs = cpuUs() - t;
    t = cpuUs();
    const gz = bodies.map((body) => gzipSync(body, { level: GZIP_LEVEL }));
    const gzipUs = cpuUs() - t;
    t = cpuUs();
    const gz6 = bodies.map((body) => gzipSync(body, { level: 6 }));
    const gzip6Us = cpuUs() - t;
    const lines = BATCHES * BATCH_LINES;
    const size = (list: readonly (string | Uint8Array)[]) => list.reduce((n, b) => n + (typeof b === "string" ? Buffer.byteLength(b) : b.byteLength), 0);
    rows.push({ data, sink, rawPerLine: size(bodies) / lines, gzPerLine: size(gz) / lines, gz6PerLine: size(gz6) / lines, encodeUs: encodeUs / lines, gzipUs: gzipUs / lines, gzip6Us: gzip6Us / lines });
  }
}

process.stdout.write(`${BATCHES} requests of ${BATCH_LINES} lines of ${LINE_BYTES} bytes per output and kind of line; gzip level ${GZIP_LEVEL} (the sink's) and 6\n\n`);
process.stdout.write("| lines | output | bytes/line sent | gzip 1: bytes/line (ratio) | gzip 6: bytes/line (ratio) | encode µs/line | gzip 1 µs/line | gzip 6 µs/line |\n|---|---|---|---|---|---|---|---|\n");
for (const r of rows) {
  process.stdout.write(`| ${r.data} | ${r.sink} | ${r.rawPerLine.toFixed(0)} | ${r.gzPerLine.toFixed(1)} (${(r.rawPerLine / r.gzPerLine).toFixed(1)}x) | ${r.gz6PerLine.toFixed(1)} (${(r.rawPerLine / r.gz6PerLine).toFixed(1)}x) | ${r.encodeUs.toFixed(2)} | ${r.gzipUs.toFixed(2)} | ${r.gzip6Us.toFixed(2)} |\n`);
}

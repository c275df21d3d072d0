// What gzip request bodies (--compression gzip) cost and save, in-process: each output's request
// bodies encoded as the sinks encode them, then gzipped as the sink does (zlib level GZIP_LEVEL) and
// at level 6 for comparison; bytes per line and CPU per line. Two kinds of 200-byte line: the
// forwarding benchmark's (a number padded with "x", which compresses far better than logs do) and
// access-log lines (addresses, paths, statuses, sizes, agents and times varying, from a seeded
// generator). Then end to end on the access-log lines: the built sidecar sends a file of them to a
// real VictoriaLogs on 127.0.0.1 with and without gzip, alternated, and its CPU (all threads,
// schedstat: the gzip work on libuv's pool included) per million lines is read from the first
// acknowledged line to the last. On the benchmark's own lines, run bench/forwarding.ts with
// TAILCAR_COMPRESSION=gzip in the sidecar's environment (docs/decisions.md).
// Usage: node bench/forwarding-gzip.ts [--quick]  (needs npm run build)
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gzipSync } from "node:zlib";
import { query, startVictoriaLogs } from "../localcluster/backend/victorialogs.ts";
import { RELAUNCHED_ENV } from "../sidecar/node-flags.ts";
import { cpuNs } from "./probes.ts";
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

// End to end: the built sidecar, access-log lines, with and without gzip.
const E2E_LINES = quick ? 50_000 : 200_000;
const E2E_ROUNDS = quick ? 1 : 2;
const MAIN_JS = join(import.meta.dirname, "..", "dist", "cli", "main.js");
const ENDPOINTS = { elasticsearch: "/insert/elasticsearch", loki: "/insert", otlp: "/insert/opentelemetry" } as const;

async function acked(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  return text.split("\n").filter((l) => l.startsWith("tailcar_sidecar_lines_written_total{")).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
}

async function endToEnd(dir: string, file: string, sink: keyof typeof ENDPOINTS, compression: "none" | "gzip", tag: string): Promise<{ cpuUsPerLine: number; linesPerS: number; stored: number }> {
  const vl = await startVictoriaLogs();
  const child = spawn(process.execPath, [MAIN_JS, "sidecar", "--file", file, "--sink", sink, "--endpoint", `${vl.url}${ENDPOINTS[sink]}`, "--checkpoint-dir", join(dir, `cp-${tag}`), "--metrics-port", "0", "--compression", compression], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, ...SOURCE_ENV, [RELAUNCHED_ENV]: "1" },
  });
  try {
    let err = "";
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr!.on("data", (d: Buffer) => {
        err = (err + d.toString()).slice(-20_000);
        const line = err.split("\n").find((l) => l.includes('"serving metrics"'));
        if (line !== undefined) resolve((JSON.parse(line) as { port: number }).port);
      });
      child.once("exit", (code) => reject(new Error(`sidecar exited (${code}):\n${err}`)));
    });
    let first: { t: number; cpu: number; n: number } | undefined;
    let last = { t: 0, cpu: 0, n: 0 };
    for (let i = 0; i < 10_000; i++) {
      const n = await acked(port);
      const sample = { t: performance.now(), cpu: await cpuNs(child.pid!), n };
      if (first === undefined && n > 0) first = sample;
      last = sample;
      if (n >= E2E_LINES) break;
      await sleep(20);
    }
    if (first === undefined || last.n < E2E_LINES) throw new Error(`${tag}: ${last.n} of ${E2E_LINES} lines acknowledged:\n${err}`);
    let stored = 0;
    for (let i = 0; i < 80 && stored < E2E_LINES; i++) {
      stored = Number((await query(vl.url, "* | stats count() as n"))[0]?.n ?? 0);
      if (stored < E2E_LINES) await sleep(250);
    }
    const lines = last.n - first.n;
    return { cpuUsPerLine: (last.cpu - first.cpu) / 1000 / lines, linesPerS: lines / ((last.t - first.t) / 1000), stored };
  } finally {
    child.kill("SIGKILL");
    await vl.dispose();
  }
}

const SOURCE_ENV = { TAILCAR_POD_NAME: "shop-api-7d9f8b6c5d-x2k4q", TAILCAR_POD_NAMESPACE: "shop", TAILCAR_NODE_NAME: "node-a-1", TAILCAR_CONTAINER_NAME: "access-log" };
const dir = await mkdtemp(join(tmpdir(), "tailcar-gzip-bench-"));
try {
  const file = join(dir, "access.log");
  await writeFile(file, accessLogLines(E2E_LINES, random(81)));
  process.stdout.write(`\nEnd to end, ${E2E_LINES} access-log lines to VictoriaLogs on 127.0.0.1, ${E2E_ROUNDS} round(s), none and gzip alternated (sidecar CPU µs a line from the first acknowledgement to the last; lines/s over the same span)\n\n| output | round | none µs/line | gzip µs/line | gzip / none | none lines/s | gzip lines/s | stored (none / gzip) |\n|---|---|---|---|---|---|---|---|\n`);
  for (let round = 1; round <= E2E_ROUNDS; round++) {
    for (const sink of Object.keys(ENDPOINTS) as (keyof typeof ENDPOINTS)[]) {
      const none = await endToEnd(dir, file, sink, "none", `${sink}-none-${round}`);
      const gz = await endToEnd(dir, file, sink, "gzip", `${sink}-gzip-${round}`);
      process.stdout.write(`| ${sink} | ${round} | ${none.cpuUsPerLine.toFixed(2)} | ${gz.cpuUsPerLine.toFixed(2)} | ${(gz.cpuUsPerLine / none.cpuUsPerLine).toFixed(2)} | ${Math.round(none.linesPerS)} | ${Math.round(gz.linesPerS)} | ${none.stored} / ${gz.stored} |\n`);
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

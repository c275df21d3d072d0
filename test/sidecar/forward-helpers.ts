// Shared by the forwarding tests: run the built sidecar against a backend, write numbered lines,
// and count what the backend holds.

import { spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import type { IncomingMessage } from "node:http";
import { join } from "node:path";
import { query, victoriaLogsBinary } from "../../localcluster/backend/victorialogs.ts";
import type { ForwardSink } from "../../settings/vocabulary.ts";

/** For a before() hook: the first build of VictoriaLogs takes minutes, longer than a test's timeout. */
export const buildBackend = { fn: (): void => void victoriaLogsBinary(), options: { timeout: 20 * 60_000 } };

/** The sink's closing summary from the sidecar's stderr ("forwarding stopped"). */
export function sinkSummary(stderr: string): Record<string, number> | undefined {
  const line = stderr.split("\n").find((l) => l.includes('"forwarding stopped"'));
  return line === undefined ? undefined : (JSON.parse(line) as Record<string, number>);
}

export const CLI = join(import.meta.dirname, "..", "..", "dist", "cli", "main.js");

export type SinkKind = ForwardSink;

/** The endpoint a user gives for VictoriaLogs (the sink appends /_bulk, /loki/api/v1/push or /v1/logs). */
export function endpointFor(sink: SinkKind, baseUrl: string): string {
  switch (sink) {
    case "elasticsearch":
      return `${baseUrl}/insert/elasticsearch`;
    case "loki":
      return `${baseUrl}/insert`;
    case "otlp":
      return `${baseUrl}/insert/opentelemetry`;
  }
}

export function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-fwd-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Appends lines "<tag> <n>" for n in [from, to), in chunks so a follower sees the file grow. */
export function writeNumbered(path: string, tag: string, from: number, to: number): void {
  const chunk = 5000;
  for (let start = from; start < to; start += chunk) {
    let text = "";
    for (let n = start; n < Math.min(to, start + chunk); n++) text += `${tag} ${String(n).padStart(7, "0")}\n`;
    appendFileSync(path, text);
  }
}

export interface Sidecar {
  readonly child: ChildProcess;
  stderr(): string;
  /** Empty when forwarding: data goes to the backend. Kept to check that nothing else goes there. */
  stdout(): string;
  /** SIGTERM, then SIGKILL after `ms`; resolves to the exit code (null if killed). */
  stop(ms?: number): Promise<number | null>;
}

/** The pod metadata every forwarding test's sidecar gets, as the webhook's downward-API variables would set it. */
export const POD = { TAILCAR_POD_NAME: "app-1", TAILCAR_POD_NAMESPACE: "shop", TAILCAR_CONTAINER_NAME: "error-log" } as const;

export function startSidecar(t: { after(fn: () => Promise<unknown> | void): void }, args: readonly string[], env: Readonly<Record<string, string>> = {}): Sidecar {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const child = spawn(process.execPath, [CLI, "sidecar", ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...POD, ...env },
  });
  let err = "";
  let out = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (err.length < 200_000) err += d.toString();
  });
  child.stdout?.on("data", (d: Buffer) => {
    if (out.length < 200_000) out += d.toString();
  });
  const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const stop = async (ms = 10_000): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), ms);
      const code = await exit;
      clearTimeout(timer);
      return code;
    }
    return child.exitCode;
  };
  t.after(() => stop(2000));
  return { child, stderr: () => err, stdout: () => out, stop };
}

/** The sidecar's /metrics text (started with --metrics-port 0: the port is in its "serving metrics" line). */
export async function scrapeMetrics(sidecar: Sidecar, timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let port: number | undefined;
  for (let i = 0; i < 1000 && port === undefined && Date.now() < deadline; i++) {
    const line = sidecar.stderr().split("\n").find((l) => l.includes('"serving metrics"'));
    if (line !== undefined) port = (JSON.parse(line) as { port: number }).port;
    else await new Promise((r) => setTimeout(r, 20));
  }
  if (port === undefined) throw new Error(`no "serving metrics" line:\n${sidecar.stderr()}`);
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  return res.text();
}

/** The value of a metric line, e.g. metricValue(text, 'tailcar_sidecar_sink_auth_failures_total{sink="loki"}'). */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

export interface Tally {
  /** Log lines stored. */
  readonly total: number;
  /** Distinct messages among them. */
  readonly distinct: number;
}

/** `ca`: the PEM CA of a VictoriaLogs serving TLS; `field`: what tells lines apart (JSON records through Loki push are unpacked: their text is in `log`). */
export async function tally(url: string, ca?: string, field = "_msg"): Promise<Tally> {
  const rows = await query(url, `* | stats count() as n, count_uniq(${field}) as u`, ca);
  return { total: Number(rows[0]?.n ?? 0), distinct: Number(rows[0]?.u ?? 0) };
}

/**
 * Polls until `want` distinct lines are stored and the count stopped moving, or the time is up.
 * Returns the last tally either way; the caller asserts on it.
 */
export async function waitForLines(url: string, want: number, timeoutMs: number, ca?: string, field = "_msg"): Promise<Tally> {
  const deadline = Date.now() + timeoutMs;
  let last: Tally = { total: 0, distinct: 0 };
  let stableSince = Date.now();
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    const now = await tally(url, ca, field);
    if (now.total !== last.total) stableSince = Date.now();
    last = now;
    // Stable for 1.5 s: VictoriaLogs makes rows searchable within about a second. Stuck for 15 s: give up.
    if (now.distinct >= want && Date.now() - stableSince > 1500) return now;
    if (Date.now() - stableSince > 15_000) return now;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

/** Resolves once the backend holds at least one line (the sidecar is sending). */
export async function waitForFirstLine(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if ((await tally(url)).total > 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no line reached ${url} within ${timeoutMs} ms`);
}

/** The first numbers of [0, n) that the backend does not hold (for a failure message). */
export async function missingNumbers(url: string, tag: string, n: number, ca?: string): Promise<number[]> {
  const rows = await query(url, `* | fields _msg | limit ${n * 2}`, ca);
  const seen = new Set(rows.map((r) => Number(r._msg?.slice(tag.length + 1))));
  const missing: number[] = [];
  for (let i = 0; i < n && missing.length < 10; i++) if (!seen.has(i)) missing.push(i);
  return missing;
}

/** A request's whole body, for the tests' own HTTP servers in front of the backend. */
export function body(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (d: Buffer) => chunks.push(d));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** A stored row as a whole, every field in key order: two copies of a record are the same when these are. */
export function rowIdentity(row: Record<string, string>): string {
  return JSON.stringify(Object.keys(row).sort().map((k) => [k, row[k]]));
}

/** The distinct stored forms of each record, by `key` (its text): one each when every replay sent the same record. */
export function copiesBy(rows: readonly Record<string, string>[], key: (row: Record<string, string>) => string): Map<string, Set<string>> {
  const copies = new Map<string, Set<string>>();
  for (const row of rows) {
    const k = key(row);
    let set = copies.get(k);
    if (!set) copies.set(k, (set = new Set()));
    set.add(rowIdentity(row));
  }
  return copies;
}

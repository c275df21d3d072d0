// A real VictoriaLogs for the forwarding tests: built once from Go modules by
// localcluster/backend/victorialogs/build.sh (cached in the user's cache directory), started on
// 127.0.0.1 with a free port and a temporary data directory, stopped for sure.

import { spawn, type ChildProcess } from "node:child_process";
import { request as httpsRequest } from "node:https";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { builtBinary } from "./go-binary.ts";

const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "victorialogs", "build.sh");

/** The server binary: $TAILCAR_VICTORIALOGS if set, else built (first time) by build.sh. */
export function victoriaLogsBinary(): string {
  return builtBinary(BUILD_SCRIPT, "TAILCAR_VICTORIALOGS", "VictoriaLogs", 20 * 60_000);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface VictoriaLogs {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly pid: number;
  /** Graceful stop (SIGTERM: VictoriaLogs flushes what it acknowledged); SIGKILL after 10 s. */
  stop(): Promise<void>;
  /** stop() and remove the data directory (unless it was given by the caller). */
  dispose(): Promise<void>;
}

export interface StartOptions {
  /** Reuse a port (a restart at the same address). */
  readonly port?: number;
  /** Reuse a data directory (a restart keeps what was stored); the caller removes it. */
  readonly dataDir?: string;
  readonly readyTimeoutMs?: number;
  /** Basic auth on every API (-httpAuth.*); /health stays open. Query with credentials in the URL. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** HTTPS only (-tls) with this certificate and key (PEM files); query with `ca` (the PEM of its CA). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string; readonly ca: string };
}

/** A request to a VictoriaLogs: fetch, or node:https when it serves TLS with a private CA (fetch cannot take one). */
async function call(url: string, init: { method?: string; headers?: Record<string, string>; body?: string; timeoutMs: number }, ca?: string): Promise<{ ok: boolean; status: number; text: string }> {
  if (ca === undefined) {
    const res = await fetch(url, { method: init.method ?? "GET", headers: init.headers ?? {}, ...(init.body !== undefined && { body: init.body }), signal: AbortSignal.timeout(init.timeoutMs) });
    const text = await res.text();
    return { ok: res.ok, status: res.status, text };
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method: init.method ?? "GET", headers: init.headers ?? {}, ca, timeout: init.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ ok: (res.statusCode ?? 0) < 300, status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`${url}: timed out`)));
    req.on("error", reject);
    req.end(init.body);
  });
}

async function isReady(url: string, ca?: string): Promise<boolean> {
  try {
    return (await call(`${url}/health`, { timeoutMs: 1000 }, ca)).ok;
  } catch {
    return false;
  }
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once("exit", () => r()));
}

export async function startVictoriaLogs(options: StartOptions = {}): Promise<VictoriaLogs> {
  const bin = victoriaLogsBinary();
  const port = options.port ?? (await freePort());
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "tailcar-vl-"));
  const url = `${options.tls === undefined ? "http" : "https"}://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${dataDir}`,
      "-loggerLevel=ERROR",
      "-inmemoryDataFlushInterval=1s",
      ...(options.auth === undefined ? [] : [`-httpAuth.username=${options.auth.username}`, `-httpAuth.password=${options.auth.password}`]),
      ...(options.tls === undefined ? [] : ["-tls", `-tlsCertFile=${options.tls.certFile}`, `-tlsKeyFile=${options.tls.keyFile}`]),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => {
    if (stderr.length < 10_000) stderr += d.toString();
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited(child);
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.readyTimeoutMs ?? 20_000);
  while (!(await isReady(url, options.tls?.ca))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      throw new Error(`VictoriaLogs at ${url} not ready (exit ${child.exitCode}): ${stderr.slice(0, 2000)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url,
    port,
    dataDir,
    pid: child.pid ?? 0,
    stop,
    async dispose() {
      await stop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Rows a LogsQL query returns (one JSON object per line). `url` may carry user:password@ (sent as
 * basic auth); `ca`: the PEM CA of a VictoriaLogs started with `tls`.
 */
export async function query(url: string, logsql: string, ca?: string): Promise<Record<string, string>[]> {
  const target = new URL(url);
  const headers: Record<string, string> = {};
  if (target.username !== "") {
    headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString("base64")}`;
    target.username = target.password = "";
  }
  headers["Content-Type"] = "application/x-www-form-urlencoded";
  const res = await call(`${target.origin}${target.pathname.replace(/\/$/, "")}/select/logsql/query`, { method: "POST", headers, body: new URLSearchParams({ query: logsql }).toString(), timeoutMs: 30_000 }, ca);
  const text = res.text;
  if (!res.ok) throw new Error(`LogsQL ${JSON.stringify(logsql)} → HTTP ${res.status}: ${text.slice(0, 500)}`);
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, string>);
}

/** Number of log lines matching a LogsQL filter ("*" for all). */
export async function countLines(url: string, filter = "*", ca?: string): Promise<number> {
  const rows = await query(url, `${filter} | stats count() as n`, ca);
  return Number(rows[0]?.n ?? 0);
}

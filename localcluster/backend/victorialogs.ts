// A real VictoriaLogs for the forwarding tests: built once from Go modules by
// localcluster/backend/victorialogs/build.sh (cached in the user's cache directory), started on
// 127.0.0.1 with a free port and a temporary data directory, stopped for sure.

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "victorialogs", "build.sh");

let binary: string | undefined;

/** The server binary: $TAILCAR_VICTORIALOGS if set, else built (first time) by build.sh. */
export function victoriaLogsBinary(): string {
  if (binary !== undefined) return binary;
  const given = process.env.TAILCAR_VICTORIALOGS;
  if (given) return (binary = given);
  // stderr inherited: the first build takes minutes, and its progress should show.
  const res = spawnSync("sh", [BUILD_SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 20 * 60_000 });
  const path = res.stdout?.trim().split("\n").at(-1);
  if (res.status !== 0 || !path) throw new Error(`building VictoriaLogs failed (exit ${res.status}): run ${BUILD_SCRIPT} to see why`);
  return (binary = path);
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
}

async function isReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    await res.text();
    return res.ok;
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
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    bin,
    [
      `-httpListenAddr=127.0.0.1:${port}`,
      `-storageDataPath=${dataDir}`,
      "-loggerLevel=ERROR",
      "-inmemoryDataFlushInterval=1s",
      ...(options.auth === undefined ? [] : [`-httpAuth.username=${options.auth.username}`, `-httpAuth.password=${options.auth.password}`]),
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
  while (!(await isReady(url))) {
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

/** Rows a LogsQL query returns (one JSON object per line). `url` may carry user:password@ (sent as basic auth). */
export async function query(url: string, logsql: string): Promise<Record<string, string>[]> {
  const target = new URL(url);
  const headers: Record<string, string> = {};
  if (target.username !== "") {
    headers.Authorization = `Basic ${Buffer.from(`${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`).toString("base64")}`;
    target.username = target.password = "";
  }
  const res = await fetch(`${target.origin}${target.pathname.replace(/\/$/, "")}/select/logsql/query`, {
    method: "POST",
    headers,
    body: new URLSearchParams({ query: logsql }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`LogsQL ${JSON.stringify(logsql)} → HTTP ${res.status}: ${text.slice(0, 500)}`);
  return text
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as Record<string, string>);
}

/** Number of log lines matching a LogsQL filter ("*" for all). */
export async function countLines(url: string, filter = "*"): Promise<number> {
  const rows = await query(url, `${filter} | stats count() as n`);
  return Number(rows[0]?.n ?? 0);
}

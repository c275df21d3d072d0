// Test harness for the sidecar: real processes (the built CLI), real files, bounded waits, and
// checks that name the first missing or doubled number.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, rmSync, existsSync, readFileSync, readSync } from "node:fs";
import { Socket } from "node:net";
import type { Readable } from "node:stream";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseSidecarConfig, type SidecarConfig } from "../../sidecar/config.ts";

/** The sidecar's settings for `--format json` as the command line gives them, with `over` on top. */
export function jsonConfig(over: Partial<SidecarConfig> = {}): SidecarConfig {
  return { ...parseSidecarConfig(["--file", "/var/log/app.log", "--format", "json"], {}), ...over };
}

export const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
export const WRITER = new URL("./fixtures/writer.ts", import.meta.url).pathname;

export function tempDir(t: { after(fn: () => void): void }, prefix = "tailcar-sidecar-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Polls `check` until it returns true, at most `timeoutMs`; throws with `what` otherwise. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string | (() => string)): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; ; i++) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === "string" ? what : what()}`);
    await sleep(Math.min(5 * 2 ** i, 50));
  }
}

export interface Sidecar {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything read from stdout so far. */
  stdout(): Buffer;
  stderr(): string;
  /** JSON diagnostics from stderr. */
  diagnostics(): Record<string, unknown>[];
  /** Stop reading stdout (the pipe fills, the sidecar blocks), or resume. */
  pauseOutput(): void;
  resumeOutput(): void;
  /** Close our end of stdout: the sidecar's next write meets EPIPE. */
  closeOutput(): void;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** Resolves once stdout has ended (every process holding its write end is gone) and all of it was read. */
  readonly outputEnded: Promise<void>;
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<number | string>;
  /** Port of --metrics-port 0, once the sidecar has said it. */
  metricsPort(): number | undefined;
}

const running = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
});

/**
 * What the sidecar's stdout is: "pipe", a FIFO as container runtimes give it (the sidecar then
 * writes what fits on its own thread, sidecar/fd-sink.ts); "socket", a Unix socket as node's
 * spawn gives it (every write goes through libuv's pool); "unread-pipe", a FIFO of which nothing
 * is read, not even into our stream's buffer, until resumeOutput().
 */
export type StdoutKind = "pipe" | "socket" | "unread-pipe";

/** What a non-blocking read end holds now: read until EAGAIN (or the writer's end). */
export function readAvailable(fd: number): Buffer {
  const chunks: Buffer[] = [];
  for (;;) {
    const buf = Buffer.alloc(64 * 1024);
    try {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") break;
      throw e;
    }
  }
  return Buffer.concat(chunks);
}

/** A FIFO whose blocking write end goes to the child (close it here once spawned), and our end of it as a stream. */
export function runtimePipe(options: { unread?: boolean } = {}): { childEnd: number; ours: Readable } {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-stdout-"));
  try {
    const path = join(dir, "stdout");
    execFileSync("mkfifo", [path]);
    const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const childEnd = openSync(path, constants.O_WRONLY);
    // pauseOnCreate (net.Socket's, missing from its types) keeps the socket from reading at all;
    // pause() alone would still fill the stream's buffer first.
    const socketOptions = { fd: reader, readable: true, writable: false, pauseOnCreate: options.unread === true };
    return { childEnd, ours: new Socket(socketOptions) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function startSidecar(
  t: { after(fn: () => void | Promise<void>): void },
  args: readonly string[],
  env: Record<string, string> = {},
  stdoutKind: StdoutKind = "pipe",
  /** Run the sidecar as this user (needs root): root reads any file, so only another user meets EACCES. */
  as?: { uid: number; gid: number },
): Sidecar {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const pipe = stdoutKind === "socket" ? undefined : runtimePipe({ unread: stdoutKind === "unread-pipe" });
  const child = spawn(process.execPath, [CLI, "sidecar", ...args], {
    stdio: ["ignore", pipe?.childEnd ?? "pipe", "pipe"],
    env: { ...process.env, ...env },
    ...as,
  });
  if (pipe) closeSync(pipe.childEnd);
  const stdout = pipe?.ours ?? child.stdout!;
  running.add(child);
  const out: Buffer[] = [];
  let outLen = 0;
  let err = "";
  stdout.on("data", (b: Buffer) => {
    out.push(b);
    outLen += b.length;
  });
  child.stderr!.on("data", (b: Buffer) => (err += b.toString()));
  const outputEnded = new Promise<void>((resolve) => {
    stdout.once("end", resolve);
    stdout.once("close", resolve);
  });
  const exited = new Promise<number | string>((resolve) => {
    child.on("exit", (code, signal) => {
      running.delete(child);
      resolve(code ?? signal ?? -1);
    });
  });
  const self: Sidecar = {
    child,
    pid: child.pid!,
    stdout: () => {
      if (out.length > 1) out.splice(0, out.length, Buffer.concat(out, outLen));
      return out[0] ?? Buffer.alloc(0);
    },
    stderr: () => err,
    diagnostics: () =>
      err
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as Record<string, unknown>),
    pauseOutput: () => stdout.pause(),
    resumeOutput: () => stdout.resume(),
    closeOutput: () => stdout.destroy(),
    exited,
    outputEnded,
    async stop(signal = "SIGTERM", timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      const r = await exited;
      clearTimeout(timer);
      return r;
    },
    metricsPort() {
      const d = self.diagnostics().find((x) => x.msg === "serving metrics");
      return typeof d?.port === "number" ? d.port : undefined;
    },
  };
  t.after(async () => {
    stdout.resume();
    await self.stop("SIGKILL");
    stdout.destroy();
  });
  return self;
}

/** Lines of the writer fixture ("<n> <padding>.") cut short: what a truncation can leave of a line. */
export function fragments(output: Buffer): string[] {
  return output
    .toString("latin1")
    .split("\n")
    .filter((l) => l !== "" && !l.endsWith(".") && /^\d+ ?x*$/.test(l));
}

/** Lines from..to as the writer fixture writes them ("<n> <padding>.", padding `pad` characters long). */
export function writerLines(from: number, to: number, pad = 0): string {
  const padding = pad > 0 ? " ".padEnd(pad, "x") : "";
  let s = "";
  for (let i = from; i <= to; i++) s += `${i}${padding}.\n`;
  return s;
}

/**
 * Bytes of the writer's lines 1..expected that never reached `output`: every missing line in
 * full, less what a cut line's fragment delivered (its bytes up to the cut).
 */
export function lostBytes(output: Buffer, expected: number, pad = 0): number {
  const r = checkSequence(parseNumbers(output, { skipFragments: true }), expected);
  const missing = new Set(r.missing);
  let lost = 0;
  for (const n of missing) lost += writerLines(n, n, pad).length;
  for (const f of fragments(output)) if (missing.has(Number.parseInt(f, 10))) lost -= f.length;
  return lost;
}

/** Numbers, one per line, as the writer fixture writes them (a line is "<n> <padding>."). */
export function parseNumbers(output: Buffer, options: { skipFragments?: boolean } = {}): number[] {
  const text = output.toString("latin1");
  const nums: number[] = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (options.skipFragments && !line.endsWith(".") && /^\d+ ?x*$/.test(line)) continue;
    const n = Number.parseInt(line, 10);
    if (!Number.isInteger(n)) throw new Error(`output line is not numbered: ${JSON.stringify(line.slice(0, 80))}`);
    nums.push(n);
  }
  return nums;
}

export interface SequenceReport {
  readonly count: number;
  readonly missing: number[];
  readonly duplicates: number[];
  /** First position where a number is smaller than its predecessor. */
  readonly firstDisorder: string | undefined;
  /** Runs of consecutive missing numbers. */
  readonly gaps: number;
}

/** Compares numbers seen against 1..expected. */
export function checkSequence(nums: readonly number[], expected: number): SequenceReport {
  const seen = new Uint8Array(expected + 2);
  const duplicates: number[] = [];
  let firstDisorder: string | undefined;
  for (let i = 0; i < nums.length; i++) {
    const n = nums[i]!;
    if (n < 1 || n > expected) throw new Error(`unexpected number ${n} at output line ${i + 1} (expected 1..${expected})`);
    if (seen[n]) duplicates.push(n);
    seen[n] = 1;
    if (i > 0 && n < nums[i - 1]! && firstDisorder === undefined) firstDisorder = `${nums[i - 1]} then ${n} at output line ${i + 1}`;
  }
  const missing: number[] = [];
  let gaps = 0;
  for (let n = 1; n <= expected; n++) {
    if (!seen[n]) {
      missing.push(n);
      if (n === 1 || seen[n - 1]) gaps++;
    }
  }
  return { count: nums.length, missing, duplicates, firstDisorder, gaps };
}

export function describe(r: SequenceReport): string {
  const parts = [`${r.count} lines`];
  if (r.missing.length) parts.push(`${r.missing.length} missing (first ${r.missing[0]}, ${r.gaps} gaps)`);
  if (r.duplicates.length) parts.push(`${r.duplicates.length} doubled (first ${r.duplicates[0]})`);
  if (r.firstDisorder) parts.push(`out of order: ${r.firstDisorder}`);
  return parts.join(", ");
}

/** The numbered lines from..to, one number a line: what checkSequence and assertExactlyOnce read back. */
export function numberedLines(from: number, to: number): string {
  let s = "";
  for (let i = from; i <= to; i++) s += `${i}\n`;
  return s;
}

/** Asserts every number 1..expected appears exactly once, in order. */
export function assertExactlyOnce(output: Buffer, expected: number): void {
  const r = checkSequence(parseNumbers(output), expected);
  if (r.missing.length || r.duplicates.length || r.firstDisorder) throw new Error(`output is not 1..${expected} exactly once in order: ${describe(r)}`);
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat (10 ms ticks). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime: fields 14 and 15 of the line
}

/** Anonymous memory (kB) and RSS (kB) of a process, from /proc. */
export function memoryKb(pid: number): { anonymous: number; rss: number } {
  const rollup = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const anonymous = Number(/^Anonymous:\s+(\d+)/m.exec(rollup)?.[1]);
  const rss = Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1]);
  return { anonymous, rss };
}

/** Prometheus text → value of the sample of `name` whose labels include all of `labels`, or undefined. */
export async function scrapeLabelled(port: number, name: string, labels: Readonly<Record<string, string>>): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const want = Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  for (const line of text.split("\n")) {
    if (!line.startsWith(name + "{")) continue;
    const labelText = line.slice(name.length + 1, line.lastIndexOf("}"));
    if (want.every((w) => labelText.split(",").includes(w))) return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

/** Prometheus text → value of one sample (summed over labels). */
export async function scrape(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
      found = true;
    }
  }
  if (!found) throw new Error(`metric ${name} not served`);
  return sum;
}

export interface Writer {
  readonly child: ChildProcess;
  /** Resolves with the last number written once the writer exits. */
  readonly done: Promise<number>;
}

/** Starts the writer fixture: COUNT numbered lines from FIRST at RATE lines/s, BATCH lines per write. */
export function startWriter(
  t: { after(fn: () => void): void },
  file: string,
  opts: { first?: number; count: number; rate: number; batch: number; pad?: number; reopen?: "auto" | "hup" },
): Writer {
  const child = spawn(
    process.execPath,
    [WRITER, file, String(opts.first ?? 1), String(opts.count), String(opts.rate), String(opts.batch), String(opts.pad ?? 0), opts.reopen ?? "auto"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  running.add(child);
  let out = "";
  child.stdout!.on("data", (b: Buffer) => (out += b.toString()));
  const done = new Promise<number>((resolve, reject) => {
    child.on("exit", (code) => {
      running.delete(child);
      if (code === 0) resolve(Number(out.trim()));
      else reject(new Error(`writer exited with ${code}`));
    });
  });
  t.after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  return { child, done };
}

/** Lines (newline count) in what the sidecar wrote so far. */
export function lineCount(sidecar: Sidecar): number {
  const out = sidecar.stdout();
  let n = 0;
  for (let i = out.indexOf(10); i >= 0; i = out.indexOf(10, i + 1)) n++;
  return n;
}

/** Waits until the sidecar has written `lines` lines (or more), bounded. */
export async function waitForLines(sidecar: Sidecar, lines: number, timeoutMs: number): Promise<void> {
  await until(() => lineCount(sidecar) >= lines, timeoutMs, () => `${lines} lines on stdout (have ${lineCount(sidecar)}); stderr: ${sidecar.stderr().slice(-2000)}`);
}

/** Waits until the sidecar has opened its file(s): before that, what happens to a file is "before it started". */
export async function waitUntilFollowing(sidecar: Sidecar, files = 1): Promise<void> {
  await until(() => sidecar.diagnostics().filter((d) => d.msg === "following file" || d.msg === "resuming from checkpoint").length >= files, 10_000, () => `the sidecar to open its file; stderr: ${sidecar.stderr()}`);
}

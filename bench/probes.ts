// One measurement of one tailer each: throughput and CPU to a 1 MiB-reading pipe consumer,
// idle memory, memory growth under a blocked stdout, and write-to-stdout latency.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { closeSync, constants, openSync, rmSync } from "node:fs";
import { open, readdir, readFile, rm, appendFile, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { parseProcStatCpuTicks, parseSmapsRollup, type MemoryKiB } from "./stats.ts";
import { makeLinesFrom } from "./gen.ts";
import type { Tailer } from "./tailers.ts";

const CONSUMER = fileURLToPath(new URL("./consumer.ts", import.meta.url));
const CLK_TCK = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;

/** Every child we start, so that a failure or Ctrl-C never leaves one running. */
const children = new Set<ChildProcess>();
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
process.once("exit", killAll);

/**
 * On SIGINT or SIGTERM: `also`, every child killed, `dir` removed and exit 130, synchronously, so
 * that nothing of the bench's main() runs (and fails noisily) in between.
 */
export function stopOnSignal(bench: string, dir: string, also: () => void = () => {}): void {
  const stop = (): void => {
    also();
    killAll();
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
    process.stderr.write(`bench ${bench}: interrupted\n`);
    process.exit(130);
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
}

export function start(command: string, args: readonly string[], stdio: ("ignore" | "pipe" | "inherit" | number)[], env: Record<string, string> = {}): ChildProcess {
  const c = spawn(command, args, { stdio, env: { ...process.env, ...env } });
  children.add(c);
  c.once("exit", () => children.delete(c));
  c.once("error", () => children.delete(c));
  return c;
}

function exited(c: ChildProcess, timeoutMs: number, what: string): Promise<number | null> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve(c.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: still running after ${timeoutMs} ms`)), timeoutMs);
    c.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export async function stop(c: ChildProcess): Promise<void> {
  if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  await exited(c, 5000, "stopping a tailer");
}

/** user+system CPU seconds process `pid` has used so far (/proc). */
export async function cpuSeconds(pid: number): Promise<number> {
  return parseProcStatCpuTicks(await readFile(`/proc/${pid}/stat`, "utf8")) / CLK_TCK;
}

/**
 * user+system CPU nanoseconds of `pid`'s live threads (/proc/PID/task/TID/schedstat): an idle
 * tailer uses a few ms a minute, below what /proc/PID/stat's 10 ms ticks can tell apart. Time of
 * threads that have exited is not in it (Node's threads live as long as the process).
 */
export async function cpuNs(pid: number): Promise<number> {
  let total = 0;
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const text = await readFile(`/proc/${pid}/task/${tid}/schedstat`, "utf8").catch(() => "0");
    total += Number(text.split(" ")[0]);
  }
  return total;
}

export async function memory(pid: number): Promise<MemoryKiB> {
  return parseSmapsRollup(await readFile(`/proc/${pid}/smaps_rollup`, "utf8"));
}

export function stderrTail(c: ChildProcess): () => string {
  let text = "";
  c.stderr?.on("data", (d: Buffer) => {
    text = (text + d.toString("utf8")).slice(-2000);
  });
  return () => text.trim();
}

interface ConsumerReport { bytes?: number; firstNs?: string; lastNs?: string }

/** Resolves with each line the consumer prints, in order: "ready", then its JSON report. */
function consumerLines(consumer: ChildProcess, what: string): () => Promise<string> {
  const lines: string[] = [];
  const waiting: { resolve: (l: string) => void; reject: (e: Error) => void }[] = [];
  let text = "";
  let ended: Error | undefined;
  consumer.stdout!.on("data", (d: Buffer) => {
    text += d.toString("utf8");
    for (let nl = text.indexOf("\n"); nl >= 0; nl = text.indexOf("\n")) {
      const line = text.slice(0, nl);
      text = text.slice(nl + 1);
      const w = waiting.shift();
      if (w) w.resolve(line);
      else lines.push(line);
    }
  });
  consumer.once("exit", (code) => {
    ended = new Error(`${what}: exited (${code}) before it had every byte`);
    for (const w of waiting.splice(0)) w.reject(ended);
  });
  return () => {
    const line = lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (ended) return Promise.reject(ended);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${what}: nothing after 120 s`)), 120_000);
      waiting.push({
        resolve: (l) => (clearTimeout(timer), resolve(l)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
    });
  };
}

export interface ThroughputSample {
  wallS: number;
  steadyS: number;
  cpuS: number;
  /**
   * CPU from the first byte the consumer got to its last (per-thread schedstat, ns): what
   * streaming costs without the process's start-up, which a Node tailer pays once (~0.1 s).
   */
  streamCpuS: number;
  /** The tailer's memory right after the consumer had every byte. */
  after: MemoryKiB;
}

/**
 * Streams `file` through the tailer into a FIFO read 1 MiB at a time, until `size` bytes came
 * out (the file's size, or what its JSON records take).
 */
export async function throughput(t: Tailer, file: string, size: number, dir: string, round: number): Promise<ThroughputSample> {
  const fifo = join(dir, `fifo-${round}-${Date.now()}`);
  execFileSync("mkfifo", [fifo]);
  const consumer = start(process.execPath, [CONSUMER, fifo, String(size)], ["ignore", "pipe", "inherit"]);
  try {
    // The tailer opens the FIFO itself (a shell redirection, then exec: same PID). Opening it here
    // would park a thread-pool thread in open(2) for good if the consumer died first, and a
    // process with such a thread cannot exit.
    const nextLine = consumerLines(consumer, `consumer of ${t.name}`);
    if ((await nextLine()) !== "ready") throw new Error(`consumer of ${t.name}: no "ready" line`);
    const t0 = process.hrtime.bigint();
    const tailer = start("sh", ["-c", 'exec "$@" > "$TAILCAR_BENCH_FIFO"', "sh", t.command, ...t.args(file)], ["ignore", "ignore", "pipe"], {
      ...t.env,
      TAILCAR_BENCH_FIFO: fifo,
    });
    const errors = stderrTail(tailer);
    try {
      if ((await nextLine()) !== "first") throw new Error(`consumer of ${t.name}: no "first" line`);
      // Read a few ms after the first byte: at most a few MB of the file are streamed by then.
      const cpuAtFirst = await cpuNs(tailer.pid!);
      const r = JSON.parse(await nextLine()) as ConsumerReport;
      const cpuAtLast = await cpuNs(tailer.pid!);
      const cpuS = await cpuSeconds(tailer.pid!);
      const after = await memory(tailer.pid!);
      if (r.bytes !== size) throw new Error(`${t.name} delivered ${r.bytes ?? "?"} of ${size} bytes; its stderr: ${errors()}`);
      return { wallS: Number(BigInt(r.lastNs!) - t0) / 1e9, steadyS: Number(BigInt(r.lastNs!) - BigInt(r.firstNs!)) / 1e9, cpuS, streamCpuS: (cpuAtLast - cpuAtFirst) / 1e9, after };
    } finally {
      await stop(tailer);
    }
  } finally {
    if (consumer.exitCode === null) consumer.kill("SIGKILL");
    await rm(fifo, { force: true });
  }
}

/** Resolves once `n` bytes came out of the child's stdout (which is drained meanwhile). */
export function received(c: ChildProcess, n: number, what: string, errors: () => string): Promise<void> {
  let got = 0;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: only ${got} of ${n} bytes after 20 s; stderr: ${errors()}`)), 20_000);
    const onData = (d: Buffer): void => {
      got += d.length;
      if (got >= n) {
        clearTimeout(timer);
        c.stdout!.off("data", onData);
        resolve();
      }
    };
    c.stdout!.on("data", onData);
  });
}

export async function makeSmallFile(dir: string, name: string): Promise<{ path: string; size: number }> {
  const path = join(dir, name);
  const { data } = makeLinesFrom(100 * 1024, 3, 0);
  await writeFile(path, data);
  return { path, size: data.length };
}

export interface MemorySample {
  /** 1.5 s after the tailer wrote a small file (100 KiB) to a drained pipe. */
  idle: MemoryKiB;
  /** Before and at the peak while nobody read its stdout and the file grew by `growth`. */
  blockedBefore: MemoryKiB;
  blockedPeak: MemoryKiB;
}

/** Idle memory, then memory growth under a blocked stdout, in one run of the tailer. */
export async function memoryProbe(t: Tailer, dir: string, growth: Buffer): Promise<MemorySample> {
  const small = await makeSmallFile(dir, `memory-${Date.now()}.log`);
  const c = start(t.command, t.args(small.path), ["ignore", "pipe", "pipe"], t.env);
  try {
    await received(c, small.size, `${t.name} (memory)`, stderrTail(c));
    c.stdout!.resume();
    await sleep(1500);
    const idle = await memory(c.pid!);
    c.stdout!.pause();
    await sleep(300);
    const blockedBefore = await memory(c.pid!);
    let peak = blockedBefore;
    const sample = async (): Promise<void> => {
      const m = await memory(c.pid!);
      peak = { rss: Math.max(peak.rss, m.rss), anonymous: Math.max(peak.anonymous, m.anonymous) };
    };
    const STEP = 8 * 1024 * 1024;
    for (let at = 0; at < growth.length; at += STEP) {
      await appendFile(small.path, growth.subarray(at, at + STEP));
      await sample();
    }
    for (let i = 0; i < 15; i++) {
      await sleep(100);
      await sample();
    }
    return { idle, blockedBefore, blockedPeak: peak };
  } finally {
    await stop(c);
  }
}

/** One idling instance after the settle time: its memory, and its CPU while it idled. */
export interface SettledSample {
  readonly memory: MemoryKiB;
  /** CPU (user + system) per minute of idling, from the first byte on stdout to the end of the wait. */
  readonly idleCpuMsPerMin: number;
}

/**
 * Idle memory after `settleMs` more: a minute of stat polls and checkpoints touches pages (the
 * young generation's) that 1.5 s after start-up are not resident yet; and what that idling costs
 * in CPU, which every pod pays all its life. All instances of all tailers run at once, so the wait
 * is paid once; each reads its own small file to a drained pipe.
 */
export async function settledProbe(tailers: readonly Tailer[], instances: number, dir: string, settleMs: number): Promise<Map<string, SettledSample[]>> {
  const running: { t: Tailer; c: ChildProcess; fromMs: number; fromCpuS: number }[] = [];
  try {
    for (const t of tailers) {
      for (let i = 0; i < instances; i++) {
        const small = await makeSmallFile(dir, `settled-${running.length}-${Date.now()}.log`);
        const c = start(t.command, t.args(small.path), ["ignore", "pipe", "pipe"], t.env);
        await received(c, small.size, `${t.name} (settled)`, stderrTail(c));
        c.stdout!.resume();
        running.push({ t, c, fromMs: performance.now(), fromCpuS: await cpuSeconds(c.pid!) });
      }
    }
    await sleep(settleMs);
    const out = new Map<string, SettledSample[]>();
    for (const { t, c, fromMs, fromCpuS } of running) {
      const list = out.get(t.name) ?? [];
      const cpuS = (await cpuSeconds(c.pid!)) - fromCpuS;
      list.push({ memory: await memory(c.pid!), idleCpuMsPerMin: (cpuS * 1000 * 60_000) / (performance.now() - fromMs) });
      out.set(t.name, list);
    }
    return out;
  } finally {
    await Promise.all(running.map(({ c }) => stop(c)));
  }
}

export interface LatencySample {
  latenciesMs: number[];
  written: number;
  received: number;
  /** The tailer's user+system CPU while the lines were written and delivered, per second. */
  cpuMsPerS: number;
}

/**
 * Appends stamped lines at `rate` lines/s for `seconds`, and times each one's arrival on stdout. The
 * tailer's stdout is a pipe, as a container runtime gives it (node's spawn would give a socket).
 */
export async function latency(t: Tailer, dir: string, rate: number, seconds: number): Promise<LatencySample> {
  const path = join(dir, `latency-${Date.now()}.log`);
  await writeFile(path, "");
  const fifo = `${path}.stdout`;
  execFileSync("mkfifo", [fifo]);
  const out = new Socket({ fd: openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false });
  const tailerEnd = openSync(fifo, constants.O_WRONLY);
  const c = start(t.command, t.args(path), ["ignore", tailerEnd, "pipe"], t.env);
  closeSync(tailerEnd);
  const latenciesMs: number[] = [];
  let carry = "";
  out.on("data", (d: Buffer) => {
    const now = process.hrtime.bigint();
    const lines = (carry + d.toString("latin1")).split("\n");
    carry = lines.pop()!;
    for (const line of lines) {
      const stamp = /^L (\d+) /.exec(line);
      if (stamp) latenciesMs.push(Number(now - BigInt(stamp[1]!)) / 1e6);
    }
  });
  try {
    await sleep(1000); // let it start and reach the (empty) end of the file
    const fh = await open(path, "a");
    const cpu0 = await cpuNs(c.pid!);
    const t0 = performance.now();
    let written = 0;
    try {
      const total = Math.round(rate * seconds);
      while (written < total) {
        const due = Math.min(total, Math.floor(((performance.now() - t0) * rate) / 1000) + 1);
        let chunk = "";
        const stamp = process.hrtime.bigint();
        for (; written < due; written++) chunk += `L ${stamp} ${written} ${"x".repeat(80)}\n`;
        if (chunk !== "") await fh.write(chunk);
        await sleep(1);
      }
    } finally {
      await fh.close();
    }
    // Pollers (busybox sleeps 1 s between looks) need time to deliver the last lines.
    for (let i = 0; i < 30 && latenciesMs.length < written; i++) await sleep(100);
    const cpuMsPerS = ((await cpuNs(c.pid!)) - cpu0) / 1e6 / ((performance.now() - t0) / 1000);
    return { latenciesMs, written, received: latenciesMs.length, cpuMsPerS };
  } finally {
    await stop(c);
    out.destroy();
    await rm(fifo, { force: true });
  }
}

/**
 * CPU of `instances` copies of each tailer idling at once, each on its own small file (read to a
 * drained pipe first), measured over `measureMs` once `settleMs` has passed since the last one
 * delivered its file (tailcar polls faster during a file's first 10 s of quiet). Per tailer: each
 * instance's CPU in ms per minute.
 */
export async function idleFleetProbe(tailers: readonly Tailer[], instances: number, dir: string, settleMs: number, measureMs: number): Promise<Map<string, number[]>> {
  const running: { t: Tailer; c: ChildProcess }[] = [];
  try {
    for (let i = 0; i < instances; i++) {
      for (const t of tailers) {
        const small = await makeSmallFile(dir, `fleet-${running.length}-${Date.now()}.log`);
        const c = start(t.command, t.args(small.path), ["ignore", "pipe", "pipe"], t.env);
        await received(c, small.size, `${t.name} (idle fleet)`, stderrTail(c));
        c.stdout!.resume();
        running.push({ t, c });
      }
    }
    await sleep(settleMs);
    const from = await Promise.all(running.map(({ c }) => cpuNs(c.pid!)));
    const t0 = performance.now();
    await sleep(measureMs);
    const to = await Promise.all(running.map(({ c }) => cpuNs(c.pid!)));
    const minutes = (performance.now() - t0) / 60_000;
    const out = new Map<string, number[]>();
    running.forEach(({ t }, i) => {
      const list = out.get(t.name) ?? out.set(t.name, []).get(t.name)!;
      list.push((to[i]! - from[i]!) / 1e6 / minutes);
    });
    return out;
  } finally {
    await Promise.all(running.map(({ c }) => stop(c)));
  }
}

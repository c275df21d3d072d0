// The glob row of the sidecar benchmark (issue 18): one sidecar following 10 files through a glob
// against GNU coreutils `tail -q -n +1 -F` on the same 10 files, in the same run: throughput and CPU
// reading the 10 files from their start, CPU while all 10 are written at 100 lines a second each, and
// idle CPU once they are read (beside tailcar on one file, what 10 matched files cost more than 1).
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync, rmSync, writeSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { dirname, join } from "node:path";
import { writeLinesFile, makeLinesFrom } from "./gen.ts";
import { cpuNs, received, start, stderrTail, stop, throughput, type ThroughputSample } from "./probes.ts";
import { pairedRatios, summarize, type Summary } from "./stats.ts";
import type { Tailer } from "./tailers.ts";
import { RELAUNCHED_ENV } from "../sidecar/node-flags.ts";

export const GLOB_FILES = 10;

export interface GlobRow {
  readonly name: string;
  readonly baseline: boolean;
  readonly steadyMbPerS: Summary;
  readonly steadyRatio: Summary;
  readonly streamCpuSPerGB: Summary;
  readonly streamCpuRatio: Summary;
}

export interface GlobIdleRow {
  readonly name: string;
  readonly baseline: boolean;
  readonly files: number;
  readonly cpuMsPerMin: Summary;
}

export interface GlobWrittenRow {
  readonly name: string;
  readonly baseline: boolean;
  readonly cpuMsPerS: Summary;
  readonly cpuRatio: Summary;
}

export interface GlobResults {
  readonly files: number;
  readonly fileBytes: number;
  readonly rounds: number;
  readonly idleSeconds: number;
  readonly throughput: GlobRow[];
  readonly idle: GlobIdleRow[];
  /** Absent from results stored before it was measured. */
  readonly written?: { readonly linesPerSecondPerFile: number; readonly seconds: number; readonly rows: GlobWrittenRow[] };
}

/** Lines a second written to each of the files, each line its own write(2). */
export const WRITTEN_RATE = 100;

/**
 * CPU (ms a second) of each tailer while every one of its own copy of the files gets WRITTEN_RATE
 * 100-byte lines a second (each line its own write, all files written in the same turn), all
 * tailers running at once. Each writes to a FIFO, as a container runtime gives stdout (node's
 * spawn would give a socket, which the sidecar writes through libuv's pool: a wake-up a write
 * that a pod's sidecar does not pay; docs/decisions.md, "One coalescing window for a sidecar's followers").
 */
async function writtenCpu(tailers: readonly { t: Tailer; files: readonly string[] }[], seconds: number): Promise<number[]> {
  const outs: Socket[] = [];
  const cs = tailers.map(({ t, files }, i) => {
    const fifo = join(dirname(files[0]!), `stdout-${i}-${Date.now()}.fifo`);
    execFileSync("mkfifo", [fifo]);
    outs.push(new Socket({ fd: openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK), readable: true, writable: false }));
    const end = openSync(fifo, constants.O_WRONLY);
    const c = start(t.command, t.args(""), ["ignore", end, "ignore"], t.env);
    closeSync(end);
    rmSync(fifo);
    return c;
  });
  try {
    for (const o of outs) o.resume();
    await new Promise((r) => setTimeout(r, 3000));
    const fds = tailers.flatMap(({ files }) => files.map((f) => openSync(f, "a")));
    const from = await Promise.all(cs.map((c) => cpuNs(c.pid!)));
    const t0 = performance.now();
    const pad = "x".repeat(90);
    for (let n = 1; performance.now() - t0 < seconds * 1000; n++) {
      for (const fd of fds) writeSync(fd, `${n} ${pad}\n`);
      await new Promise((r) => setTimeout(r, Math.max(0, t0 + (n * 1000) / WRITTEN_RATE - performance.now())));
    }
    const to = await Promise.all(cs.map((c) => cpuNs(c.pid!)));
    for (const fd of fds) closeSync(fd);
    const s = (performance.now() - t0) / 1000;
    return cs.map((_, i) => (to[i]! - from[i]!) / 1e6 / s);
  } finally {
    await Promise.all(cs.map((c) => stop(c)));
    for (const o of outs) o.destroy();
  }
}

/** coreutils tail on the files (-q: no `==> file <==` headers, so its output is the files' bytes). */
function coreutilsOn(files: readonly string[]): Tailer {
  return { name: "coreutils tail -q -F (10 files)", command: "tail", args: () => ["-q", "-n", "+1", "-F", ...files], isBaseline: true };
}

/** tailcar's sidecar on a glob, with the Node flags a raw sidecar chooses for itself (as the main rows). */
function tailcarOn(mainJs: string, pattern: string, label: string): Tailer {
  return { name: `tailcar sidecar --file '${label}'`, command: process.execPath, args: () => ["--lite-mode", mainJs, "sidecar", "--file", pattern], env: { [RELAUNCHED_ENV]: "1" }, isBaseline: false };
}

/** CPU (ms a minute) of `t` idling after it has delivered `bytes`, measured over `measureMs` after `settleMs`. */
async function idleCpu(t: Tailer, bytes: number, settleMs: number, measureMs: number): Promise<number> {
  const c = start(t.command, t.args(""), ["ignore", "pipe", "pipe"], t.env);
  try {
    await received(c, bytes, `${t.name} (idle)`, stderrTail(c));
    c.stdout!.resume();
    await new Promise((r) => setTimeout(r, settleMs));
    const from = await cpuNs(c.pid!);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, measureMs));
    const to = await cpuNs(c.pid!);
    return (to - from) / 1e6 / ((performance.now() - t0) / 60_000);
  } finally {
    await stop(c);
  }
}

export async function benchGlob(mainJs: string, dir: string, o: { quick: boolean; totalBytes: number; rounds: number; progress: (msg: string) => void }): Promise<GlobResults> {
  const big = join(dir, "glob-big");
  await mkdir(big);
  const files: string[] = [];
  let total = 0;
  for (let i = 0; i < GLOB_FILES; i++) {
    const f = join(big, `app-${i}.log`);
    total += writeLinesFile(f, Math.floor(o.totalBytes / GLOB_FILES)).bytes;
    files.push(f);
  }
  const base = coreutilsOn(files);
  const ours = tailcarOn(mainJs, `${big}/*.log`, "DIR/*.log");
  const samples = new Map<string, ThroughputSample[]>([[base.name, []], [ours.name, []]]);
  for (let r = 0; r < o.rounds; r++) {
    for (const t of r % 2 === 0 ? [base, ours] : [ours, base]) {
      const s = await throughput(t, "", total, dir, 100 + r);
      samples.get(t.name)!.push(s);
      o.progress(`glob throughput round ${r + 1}/${o.rounds} ${t.name}: ${(total / 1e6 / s.steadyS).toFixed(0)} MB/s steady, ${s.streamCpuS.toFixed(2)} CPU-s streaming`);
    }
  }
  const gb = total / 1e9;
  const b = samples.get(base.name)!;
  const rows: GlobRow[] = [base, ours].map((t) => {
    const s = samples.get(t.name)!;
    return {
      name: t.name,
      baseline: t.isBaseline,
      steadyMbPerS: summarize(s.map((x) => total / 1e6 / x.steadyS)),
      steadyRatio: summarize(pairedRatios(b.map((x) => x.steadyS), s.map((x) => x.steadyS))),
      streamCpuSPerGB: summarize(s.map((x) => x.streamCpuS / gb)),
      streamCpuRatio: summarize(pairedRatios(s.map((x) => x.streamCpuS), b.map((x) => x.streamCpuS))),
    };
  });

  // Idle: 10 small files (10 KiB each), and one, read to a drained pipe, then quiet.
  const small = join(dir, "glob-small");
  const one = join(dir, "glob-one");
  await mkdir(small);
  await mkdir(one);
  const smallFiles: string[] = [];
  let smallBytes = 0;
  let oneBytes = 0;
  for (let i = 0; i < GLOB_FILES; i++) {
    const { data } = makeLinesFrom(10 * 1024, 3 + i, 0);
    const f = join(small, `app-${i}.log`);
    await writeFile(f, data);
    smallFiles.push(f);
    smallBytes += data.length;
    if (i === 0) {
      await writeFile(join(one, "app-0.log"), data);
      oneBytes = data.length;
    }
  }
  const settleMs = o.quick ? 11_000 : 15_000;
  const measureMs = o.quick ? 10_000 : 60_000;
  const idleTailers: [Tailer, number, number][] = [
    [coreutilsOn(smallFiles), GLOB_FILES, smallBytes],
    [tailcarOn(mainJs, `${small}/*.log`, "DIR/*.log"), GLOB_FILES, smallBytes],
    [{ ...tailcarOn(mainJs, `${one}/*.log`, "DIR/*.log"), name: "tailcar sidecar --file 'DIR/*.log' (1 file)" }, 1, oneBytes],
  ];
  const idle: GlobIdleRow[] = [];
  const idleRounds = o.quick ? 1 : 3;
  for (const [t, n, bytes] of idleTailers) {
    const ms: number[] = [];
    for (let r = 0; r < idleRounds; r++) ms.push(await idleCpu(t, bytes, settleMs, measureMs));
    idle.push({ name: t.name, baseline: t.isBaseline, files: n, cpuMsPerMin: summarize(ms) });
    o.progress(`glob idle ${t.name}: ${idle.at(-1)!.cpuMsPerMin.median.toFixed(1)} ms/min`);
  }

  // Written: 10 empty files each, WRITTEN_RATE lines a second to every file.
  const seconds = o.quick ? 5 : 20;
  const sets: { t: Tailer; files: string[] }[] = [];
  for (const who of ["coreutils", "tailcar"]) {
    const d = join(dir, `glob-written-${who}`);
    await mkdir(d);
    const fs: string[] = [];
    for (let i = 0; i < GLOB_FILES; i++) {
      fs.push(join(d, `app-${i}.log`));
      await writeFile(fs[i]!, "");
    }
    sets.push({ t: who === "coreutils" ? coreutilsOn(fs) : tailcarOn(mainJs, `${d}/*.log`, "DIR/*.log"), files: fs });
  }
  const perRound: number[][] = [];
  for (let r = 0; r < o.rounds; r++) {
    perRound.push(await writtenCpu(sets, seconds));
    o.progress(`glob written round ${r + 1}/${o.rounds}: ${sets.map((x, i) => `${x.t.name} ${perRound.at(-1)![i]!.toFixed(1)} ms/s`).join(", ")}`);
  }
  const written = {
    linesPerSecondPerFile: WRITTEN_RATE,
    seconds,
    rows: sets.map(({ t }, i) => ({
      name: t.name,
      baseline: t.isBaseline,
      cpuMsPerS: summarize(perRound.map((x) => x[i]!)),
      cpuRatio: summarize(pairedRatios(perRound.map((x) => x[i]!), perRound.map((x) => x[0]!))),
    })),
  };
  return { files: GLOB_FILES, fileBytes: total, rounds: o.rounds, idleSeconds: measureMs / 1000, throughput: rows, idle, written };
}

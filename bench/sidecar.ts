// The sidecar benchmark (issue 4): every figure is a ratio to GNU coreutils `tail -n +1 -F`
// measured in the same run, over several rounds with the tailers' order rotated each round.
// Usage: node bench/sidecar.ts [--quick] [--write]  (a full run writes BENCHMARKS.md and
// bench/results/sidecar.json; a quick one only prints, unless --write). Progress goes to stderr.
// TAILCAR_BENCH_COMPARE=DIR (a checkout of another revision, built) adds its --format json
// sidecar to the throughput rounds, labelled TAILCAR_BENCH_COMPARE_LABEL: an encoder change
// measured against the one before it in the same run.
import { mkdtemp, rm, open } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { writeLinesFile } from "./gen.ts";
import { throughput, memoryProbe, settledProbe, latency, killAll, stopOnSignal, type MemorySample, type ThroughputSample } from "./probes.ts";
import { summarize, pairedRatios, percentile, type Summary } from "./stats.ts";
import { coreutils, busybox, naiveReader, tailcar, tailcarAsImage, sidecarBuilt, snapshotBuild, compareBuildRoot, type Tailer } from "./tailers.ts";
import { benchTransforms, type TransformResult } from "./transform.ts";
import { machineInfo, publish, renderSidecar } from "./report.ts";
import { benchArgs } from "./tool-args.ts";
import { benchGlob, type GlobResults } from "./glob.ts";
import { parseSidecarConfig } from "../sidecar/config.ts";
import { createTransform } from "../sidecar/transform.ts";
import { POD_ENV } from "../settings/sidecar-rows.ts";

/**
 * Pod metadata as the webhook sets it (downward API), of typical lengths: a Deployment's pod name,
 * a cloud node name. Each JSON record carries it, so it adds about 100 bytes a line.
 */
const POD_METADATA: Readonly<Record<string, string>> = {
  [POD_ENV.podName]: "checkout-api-7d9f8c6b5-x2k4q",
  [POD_ENV.podNamespace]: "shop",
  [POD_ENV.nodeName]: "ip-10-0-12-34.eu-west-1.compute.internal",
  [POD_ENV.containerName]: "error-log",
};

const { quick, write } = benchArgs("sidecar");
const MiB = 1024 * 1024;
const FILE_BYTES = (quick ? 32 : 256) * MiB;
const ROUNDS = quick ? 3 : 5;
const MEM_ROUNDS = quick ? 1 : 3;
const SETTLE_SECONDS = quick ? 10 : 60;
const LATENCY = quick ? { rounds: 1, seconds: 2 } : { rounds: 3, seconds: 4 };
const BLOCKED_GROWTH = 64 * MiB;
/** The Node flags a raw-format sidecar chooses for itself (sidecar/node-flags.ts), for the stand-in reader; json gets none. */
const IMAGE_RAW_FLAGS: readonly string[] = ["--lite-mode"];
/** Other flag sets, measured beside the image's for comparison (plain `node`, as from a shell). */
const FLAG_VARIANTS: string[][] = quick ? [] : [[]];

function progress(msg: string): void {
  process.stderr.write(`[bench sidecar ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export interface ThroughputRow { name: string; baseline: boolean; mbPerS: Summary; steadyMbPerS: Summary; ratio: Summary; /** Absent from results stored before it was measured. */ steadyRatio?: Summary; cpuSPerGB: Summary; cpuRatio: Summary; /** Absent from results stored before they were measured. */ streamCpuSPerGB?: Summary; streamCpuRatio?: Summary; outPerIn?: number; afterRssMiB: Summary; afterAnonMiB: Summary }
export interface MemoryRow {
  name: string; baseline: boolean; rssMiB: Summary; anonMiB: Summary; settledRssMiB: Summary; settledAnonMiB: Summary;
  /** Absent from results written before it was measured. */
  idleCpuMsPerMin?: Summary;
}
export interface BlockedRow { name: string; baseline: boolean; growthRssMiB: Summary; growthAnonMiB: Summary }
export interface LatencyRow {
  name: string; baseline: boolean; p50Ms: Summary; p99Ms: Summary; maxMs: number; written: number; received: number;
  /** CPU at that rate, ms per second; absent from results written before it was measured. */
  cpuMsPerS?: Summary;
}
export interface SidecarResults {
  date: string; quick: boolean; cores: number; loadAvg: { start: number; end: number }; cpuModel: string; node: string; sidecarBuilt: boolean;
  fileBytes: number; fileLines: number; rounds: number; memRounds: number; settleSeconds: number; latency: { rounds: number; seconds: number; rate: number };
  throughput: ThroughputRow[]; idle: MemoryRow[]; blocked: BlockedRow[]; latencyRows: LatencyRow[]; transforms: TransformResult[];
  /** Absent from results stored before it was measured, and without a build. */
  glob?: GlobResults;
}

function rotate<T>(xs: readonly T[], by: number): T[] {
  return xs.map((_, i) => xs[(i + by) % xs.length]!);
}

/** At least `n` bytes of whole lines from the start of `file` (repeated if it is shorter): what the blocked test appends. */
async function readStart(file: string, n: number): Promise<Buffer> {
  const fh = await open(file, "r");
  try {
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    if (bytesRead === 0) throw new Error(`${file} is empty`);
    const lines = buf.subarray(0, buf.lastIndexOf(0x0a, bytesRead - 1) + 1);
    if (lines.length === 0) throw new Error(`${file}: no whole line in its first ${n} bytes`);
    return Buffer.concat(Array.from({ length: Math.ceil(n / lines.length) }, () => lines));
  } finally {
    await fh.close();
  }
}

/** How many bytes `tailcar sidecar --format json` writes for `file` in environment `env`: the same transform, in-process. */
async function jsonOutputBytes(file: string, env: Readonly<Record<string, string>>): Promise<number> {
  const config = parseSidecarConfig(["--file", file, "--format", "json"], env);
  const transform = createTransform(config, file);
  const fh = await open(file, "r");
  const buf = Buffer.allocUnsafe(MiB);
  let total = 0;
  let pos = 0;
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, pos);
      // (lastIndexOf with a negative start would search from the end of the stale buffer)
      if (bytesRead === 0) break;
      const end = buf.lastIndexOf(0x0a, bytesRead - 1) + 1;
      if (end === 0) break;
      pos += end;
      total += transform.push(buf.subarray(0, end), pos).out.length;
    }
  } finally {
    await fh.close();
  }
  return total + transform.flush().out.length;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "tailcar-bench-"));
  const loadAtStart = loadavg()[0]!;
  stopOnSignal("sidecar", dir);
  try {
    const bb = busybox();
    if (!bb) progress("busybox not installed: skipping it (apt-get install -y busybox)");
    const build = sidecarBuilt() ? await snapshotBuild(dir) : undefined;
    if (!build) progress("dist/sidecar/command.js missing: measuring the naive stand-in reader instead (npm run build)");
    // Streaming rows start the sidecar under the flags it would choose, so that its one extra Node
    // start in the image (~100 ms of CPU, docs/decisions.md) is not counted as streaming cost; the
    // idle rows run it as the image does (re-executed, its settings handed over: no settings engine).
    const main = tailcar(build, IMAGE_RAW_FLAGS);
    const asImage = build ? tailcarAsImage(build) : main;
    const variants = FLAG_VARIANTS.map((f) => tailcar(build, f));
    const jsonBare = tailcar(build, [], ["--format", "json"]);
    const jsonMode = build ? [jsonBare, { ...jsonBare, name: `${jsonBare.name} + pod metadata`, env: { ...jsonBare.env, ...POD_METADATA } }] : [];
    const compare = compareBuildRoot();
    const compareJson = build && compare ? [tailcar(await snapshotBuild(dir, compare.root, "compare"), [], ["--format", "json"], ` (${compare.label})`)] : [];
    const reference = build && !quick ? [naiveReader()] : [];
    const tailers: Tailer[] = [coreutils, ...(bb ? [bb] : []), ...reference, main, ...variants, ...jsonMode, ...compareJson];

    progress(`generating ${FILE_BYTES / MiB} MiB of lines`);
    const file = join(dir, "big.log");
    const { bytes: size, lines } = writeLinesFile(file, FILE_BYTES);
    const outputBytes = new Map<string, number>();
    for (const t of tailers) outputBytes.set(t.name, t.format === "json" ? await jsonOutputBytes(file, t.env ?? {}) : size);
    const growth = await readStart(file, BLOCKED_GROWTH);

    const samples = new Map<string, ThroughputSample[]>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of rotate(tailers, r)) {
        const s = await throughput(t, file, outputBytes.get(t.name)!, dir, r);
        (samples.get(t.name) ?? samples.set(t.name, []).get(t.name)!).push(s);
        progress(`throughput round ${r + 1}/${ROUNDS} ${t.name}: ${(size / 1e6 / s.wallS).toFixed(0)} MB/s, ${s.cpuS.toFixed(2)} CPU-s`);
      }
    }
    const base = samples.get(coreutils.name)!;
    const gb = size / 1e9;
    const throughputRows: ThroughputRow[] = tailers.map((t) => {
      const s = samples.get(t.name)!;
      return {
        name: t.name,
        baseline: t.isBaseline,
        mbPerS: summarize(s.map((x) => size / 1e6 / x.wallS)),
        steadyMbPerS: summarize(s.map((x) => size / 1e6 / x.steadyS)),
        ratio: summarize(pairedRatios(base.map((x) => x.wallS), s.map((x) => x.wallS))),
        steadyRatio: summarize(pairedRatios(base.map((x) => x.steadyS), s.map((x) => x.steadyS))),
        cpuSPerGB: summarize(s.map((x) => x.cpuS / gb)),
        cpuRatio: summarize(pairedRatios(s.map((x) => x.cpuS), base.map((x) => x.cpuS))),
        streamCpuSPerGB: summarize(s.map((x) => x.streamCpuS / gb)),
        streamCpuRatio: summarize(pairedRatios(s.map((x) => x.streamCpuS), base.map((x) => x.streamCpuS))),
        outPerIn: outputBytes.get(t.name)! / size,
        afterRssMiB: summarize(s.map((x) => x.after.rss / 1024)),
        afterAnonMiB: summarize(s.map((x) => x.after.anonymous / 1024)),
      };
    });

    const idle: MemoryRow[] = [];
    const blocked: BlockedRow[] = [];
    // A smoke run skips busybox here: its memory and its 1 s poll are known, and time is short.
    // JSON mode has the same idle memory target as raw; the comparison build is measured for throughput only.
    // The raw row idles as the image runs it (re-executed, its settings handed over: no settings engine).
    const slowOnes = tailers.filter((t) => !reference.includes(t) && !compareJson.includes(t) && !(quick && t === bb)).map((t) => (t === main ? asImage : t));
    progress(`memory: ${MEM_ROUNDS} of each tailer idling together for ${SETTLE_SECONDS} s`);
    const settled = await settledProbe(slowOnes, MEM_ROUNDS, dir, SETTLE_SECONDS * 1000);
    for (const t of slowOnes) {
      const ms: MemorySample[] = [];
      const later = settled.get(t.name) ?? [];
      for (let r = 0; r < MEM_ROUNDS; r++) ms.push(await memoryProbe(t, dir, growth));
      const mib = (f: (m: (typeof ms)[number]) => number): Summary => summarize(ms.map((m) => f(m) / 1024));
      idle.push({
        name: t.name,
        baseline: t.isBaseline,
        rssMiB: mib((m) => m.idle.rss),
        anonMiB: mib((m) => m.idle.anonymous),
        settledRssMiB: summarize(later.map((m) => m.memory.rss / 1024)),
        settledAnonMiB: summarize(later.map((m) => m.memory.anonymous / 1024)),
        idleCpuMsPerMin: summarize(later.map((m) => m.idleCpuMsPerMin)),
      });
      blocked.push({
        name: t.name,
        baseline: t.isBaseline,
        growthRssMiB: mib((m) => m.blockedPeak.rss - m.blockedBefore.rss),
        growthAnonMiB: mib((m) => m.blockedPeak.anonymous - m.blockedBefore.anonymous),
      });
      progress(`memory ${t.name}: idle RSS ${idle.at(-1)!.rssMiB.median.toFixed(1)} MiB (${idle.at(-1)!.settledRssMiB.median.toFixed(1)} after ${SETTLE_SECONDS} s), anonymous ${idle.at(-1)!.anonMiB.median.toFixed(1)} MiB, idle CPU ${idle.at(-1)!.idleCpuMsPerMin!.median.toFixed(0)} ms/min; blocked growth ${blocked.at(-1)!.growthRssMiB.median.toFixed(1)} MiB`);
    }

    const latencyRows: LatencyRow[] = [];
    for (const t of [coreutils, ...(bb && !quick ? [bb] : []), main]) {
      const rounds = [];
      for (let r = 0; r < LATENCY.rounds; r++) rounds.push(await latency(t, dir, 1000, LATENCY.seconds));
      const all = rounds.flatMap((x) => x.latenciesMs);
      latencyRows.push({
        name: t.name,
        baseline: t.isBaseline,
        p50Ms: summarize(rounds.map((x) => percentile(x.latenciesMs, 50))),
        p99Ms: summarize(rounds.map((x) => percentile(x.latenciesMs, 99))),
        maxMs: Math.max(...all),
        written: rounds.reduce((a, x) => a + x.written, 0),
        received: rounds.reduce((a, x) => a + x.received, 0),
        cpuMsPerS: summarize(rounds.map((x) => x.cpuMsPerS)),
      });
      const row = latencyRows.at(-1)!;
      progress(`latency ${t.name}: p50 ${row.p50Ms.median.toFixed(2)} ms, p99 ${row.p99Ms.median.toFixed(2)} ms, CPU ${row.cpuMsPerS!.median.toFixed(0)} ms/s`);
    }

    const glob = build ? await benchGlob(build, dir, { quick, totalBytes: FILE_BYTES, rounds: ROUNDS, progress }) : undefined;

    progress("JSON transforms in-process");
    const transforms = benchTransforms();

    const results: SidecarResults = {
      ...machineInfo(loadAtStart), quick, sidecarBuilt: build !== undefined, fileBytes: size, fileLines: lines, rounds: ROUNDS, memRounds: MEM_ROUNDS, settleSeconds: SETTLE_SECONDS,
      latency: { ...LATENCY, rate: 1000 }, throughput: throughputRows, idle, blocked, latencyRows, transforms, ...(glob && { glob }),
    };
    const md = renderSidecar(results);
    process.stdout.write(md + "\n");
    if (write) await publish("sidecar", md, results, progress);
  } finally {
    killAll();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench sidecar: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});

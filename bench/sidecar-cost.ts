// What a sidecar costs a pod all its life (issue 17): CPU while it idles, one at a time and 50 at
// once, and CPU and latency at 100, 1,000 and 10,000 lines/s (each write as the writer makes it)
// by coalescing window (--coalesce). Every figure beside GNU coreutils `tail -n +1 -F` measured in
// the same run, rounds interleaved. CPU from /proc/PID/task/*/schedstat (ns, not 10 ms ticks).
// Usage: node bench/sidecar-cost.ts [--quick] [--write]  (a full run writes BENCHMARKS.md's
// sidecar-cost section and bench/results/sidecar-cost.json). TAILCAR_BENCH_COMPARE=DIR (another
// revision's checkout, built) adds its sidecar, with its own defaults, to every table.
import { mkdtemp, rm } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { idleFleetProbe, latency, killAll, stopOnSignal } from "./probes.ts";
import { summarize, percentile, type Summary } from "./stats.ts";
import { coreutils, tailcar, sidecarBuilt, snapshotBuild, compareBuildRoot, type Tailer } from "./tailers.ts";
import { machineInfo, publish, renderSidecarCost } from "./report.ts";
import { benchArgs } from "./tool-args.ts";

const { quick, write } = benchArgs("sidecar-cost");
const ROUNDS = quick ? 1 : 3;
const FLEET = quick ? 10 : 50;
/** Past the sidecar's 10 s of fast polling after a file's last bytes (sidecar/poll-pace.ts). */
const SETTLE_MS = 12_000;
const MEASURE_MS = quick ? 20_000 : 60_000;
const RATES = [100, 1000, 10_000] as const;
const SECONDS = quick ? 2 : 4;
/** The coalescing windows measured (the default is settings/sidecar-rows.ts'); 200ms: OpenTelemetry filelog's poll. */
const WINDOWS = ["0", "5ms", "10ms", "15ms", "20ms", "200ms"] as const;
const IMAGE_RAW_FLAGS = ["--lite-mode"];

function progress(msg: string): void {
  process.stderr.write(`[bench sidecar-cost ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export interface IdleRow { name: string; baseline: boolean; instances: number; cpuMsPerMin: Summary; perRound: number[] }
export interface RateRow { name: string; baseline: boolean; rate: number; window: string | undefined; cpuMsPerS: Summary; cpuRatio: Summary; p50Ms: Summary; p99Ms: Summary; written: number; received: number }
export interface SidecarCostResults {
  date: string; quick: boolean; cores: number; loadAvg: { start: number; end: number }; cpuModel: string; node: string;
  rounds: number; settleMs: number; measureMs: number; seconds: number; idle: IdleRow[]; rates: RateRow[];
}

function rotate<T>(xs: readonly T[], by: number): T[] {
  return xs.map((_, i) => xs[(i + by) % xs.length]!);
}

async function main(): Promise<void> {
  if (!sidecarBuilt()) throw new Error("dist/ missing: npm run build first");
  const dir = await mkdtemp(join(tmpdir(), "tailcar-bench-cost-"));
  const loadAtStart = loadavg()[0]!;
  stopOnSignal("sidecar-cost", dir);
  try {
    const build = await snapshotBuild(dir);
    const main = tailcar(build, IMAGE_RAW_FLAGS);
    const cpDir = join(dir, "checkpoints");
    let cpN = 0;
    const checkpointed = (t: Tailer): Tailer => ({ ...t, name: `${t.name} --checkpoint-dir`, args: (f) => [...t.args(f), "--checkpoint-dir", join(cpDir, String(cpN++))] });
    const withCheckpoints = checkpointed(main);
    const compare = compareBuildRoot();
    const other = compare ? [tailcar(await snapshotBuild(dir, compare.root, "compare"), IMAGE_RAW_FLAGS, [], ` (${compare.label})`)] : [];

    // Idle: one of each at once, then FLEET of each at once; a round is one such run.
    const idle: IdleRow[] = [];
    for (const [label, instances, tailers] of [["one", 1, [coreutils, main, withCheckpoints, ...other, ...other.map(checkpointed)]], ["fleet", FLEET, [coreutils, main, ...other]]] as const) {
      const rounds = new Map<string, number[][]>();
      for (let r = 0; r < ROUNDS; r++) {
        const got = await idleFleetProbe(rotate(tailers, r), instances, dir, SETTLE_MS, MEASURE_MS);
        for (const [name, xs] of got) (rounds.get(name) ?? rounds.set(name, []).get(name)!).push(xs);
        progress(`idle ${label} round ${r + 1}/${ROUNDS}: ${[...got].map(([n, xs]) => `${n} ${summarize(xs).median.toFixed(1)} ms/min`).join(", ")}`);
      }
      for (const t of tailers) {
        const rs = rounds.get(t.name)!;
        // The figure per sidecar: each round's median instance; the spread is over rounds.
        const perRound = rs.map((xs) => summarize(xs).median);
        idle.push({ name: t.name, baseline: t.isBaseline, instances, cpuMsPerMin: summarize(perRound), perRound });
      }
    }

    // Rates: coreutils and tailcar at each window, interleaved per round.
    const windowed = WINDOWS.map((w) => ({ w, t: tailcar(build, IMAGE_RAW_FLAGS, ["--coalesce", w]) }));
    const rates: RateRow[] = [];
    for (const rate of RATES) {
      const all: { w: string | undefined; t: Tailer }[] = [{ w: undefined, t: coreutils }, ...windowed, ...other.map((t) => ({ w: undefined, t }))];
      const samples = new Map<string, Awaited<ReturnType<typeof latency>>[]>();
      for (let r = 0; r < ROUNDS; r++) {
        for (const { t } of rotate(all, r)) {
          const s = await latency(t, dir, rate, SECONDS);
          (samples.get(t.name) ?? samples.set(t.name, []).get(t.name)!).push(s);
        }
        progress(`${rate} lines/s round ${r + 1}/${ROUNDS} done`);
      }
      const base = samples.get(coreutils.name)!;
      for (const { w, t } of all) {
        const s = samples.get(t.name)!;
        rates.push({
          name: t.name, baseline: t.isBaseline, rate, window: w,
          cpuMsPerS: summarize(s.map((x) => x.cpuMsPerS)),
          cpuRatio: summarize(s.map((x, i) => x.cpuMsPerS / base[i]!.cpuMsPerS)),
          p50Ms: summarize(s.map((x) => percentile(x.latenciesMs, 50))),
          p99Ms: summarize(s.map((x) => percentile(x.latenciesMs, 99))),
          written: s.reduce((a, x) => a + x.written, 0),
          received: s.reduce((a, x) => a + x.received, 0),
        });
        const row = rates.at(-1)!;
        progress(`${rate} lines/s ${t.name}: CPU ${row.cpuMsPerS.median.toFixed(1)} ms/s (${row.cpuRatio.median.toFixed(2)}x coreutils), p99 ${row.p99Ms.median.toFixed(1)} ms`);
      }
    }

    const results: SidecarCostResults = {
      ...machineInfo(loadAtStart), quick, rounds: ROUNDS, settleMs: SETTLE_MS, measureMs: MEASURE_MS, seconds: SECONDS, idle, rates,
    };
    const md = renderSidecarCost(results);
    process.stdout.write(md + "\n");
    if (write) await publish("sidecar-cost", md, results, progress);
  } finally {
    killAll();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench sidecar-cost: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});

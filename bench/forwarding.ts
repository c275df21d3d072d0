// Forwarding throughput (issue 18): the built sidecar sends a file of 200-byte lines to a real
// VictoriaLogs on 127.0.0.1 through each output (Elasticsearch _bulk, Loki push, OTLP/HTTP), rounds
// interleaved with the order rotated; lines/s and CPU per million lines, each output beside the
// Loki output measured in the same round. Then the sidecar's memory while the backend is down for
// a minute and a writer keeps appending, and the catch-up once it is back (every line delivered).
// Usage: node bench/forwarding.ts [--quick] [--write]  (a full run writes BENCHMARKS.md's
// forwarding section and bench/results/forwarding.json).
import { spawn, type ChildProcess } from "node:child_process";
import { appendFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort, query, startVictoriaLogs, victoriaLogsBinary, type VictoriaLogs } from "../localcluster/backend/victorialogs.ts";
import { RELAUNCHED_ENV } from "../sidecar/node-flags.ts";
import type { ForwardSink } from "../settings/vocabulary.ts";
import { renderForwarding } from "./forwarding-render.ts";
import { cpuNs, killAll, memory, stopOnSignal } from "./probes.ts";
import { machineInfo, publish } from "./report.ts";
import { benchArgs } from "./tool-args.ts";
import { summarize, pairedRatios, type Summary } from "./stats.ts";
import { sidecarBuilt, snapshotBuild } from "./tailers.ts";

const { quick, write } = benchArgs("forwarding");
const ROUNDS = quick ? 1 : 3;
const LINES = quick ? 100_000 : 500_000;
const LINE_BYTES = 200;
/** The output the others are compared with (the issue: OTLP against Loki in the same run). */
const BASELINE: ForwardSink = "loki";
const OUTPUTS: readonly ForwardSink[] = ["elasticsearch", "loki", "otlp"];
const DOWN_S = quick ? 10 : 60;
/** The writer's rate while the backend is down: 1 MB/s of 200-byte lines per sidecar. */
const DOWN_RATE = 5000;
const POD_ENV = { TAILCAR_POD_NAME: "shop-api-7d9f8b6c5d-x2k4q", TAILCAR_POD_NAMESPACE: "shop", TAILCAR_NODE_NAME: "node-a-1", TAILCAR_CONTAINER_NAME: "error-log" };

function progress(msg: string): void {
  process.stderr.write(`[bench forwarding ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** The endpoint a user gives for VictoriaLogs, per output (docs/forwarding.md). */
function endpoint(sink: ForwardSink, base: string): string {
  return { elasticsearch: `${base}/insert/elasticsearch`, loki: `${base}/insert`, otlp: `${base}/insert/opentelemetry` }[sink];
}

/** Lines "<tag> <n> xxxx…" of exactly LINE_BYTES bytes with the newline, numbered from `from`. */
function numberedLines(tag: string, from: number, count: number): Buffer {
  const buf = Buffer.alloc(count * LINE_BYTES, "x");
  for (let i = 0; i < count; i++) {
    const at = i * LINE_BYTES;
    buf.write(`${tag} ${String(from + i).padStart(9, "0")} `, at, "latin1");
    buf[at + LINE_BYTES - 1] = 0x0a;
  }
  return buf;
}

async function writeLines(file: string, tag: string, count: number): Promise<void> {
  const chunk = 50_000;
  await writeFile(file, "");
  for (let n = 0; n < count; n += chunk) await appendFile(file, numberedLines(tag, n, Math.min(chunk, count - n)));
}

interface Sidecar {
  readonly child: ChildProcess;
  readonly metricsPort: Promise<number>;
  stderr(): string;
}

const children = new Set<ChildProcess>();

function startSidecar(mainJs: string, file: string, sink: ForwardSink, url: string, cpDir: string): Sidecar {
  const args = [mainJs, "sidecar", "--file", file, "--sink", sink, "--endpoint", endpoint(sink, url), "--checkpoint-dir", cpDir, "--metrics-port", "0"];
  // As the webhook runs it (checkpoints, pod metadata); RELAUNCHED_ENV: measured in this process.
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...POD_ENV, [RELAUNCHED_ENV]: "1" } });
  children.add(child);
  child.once("exit", () => children.delete(child));
  let err = "";
  const metricsPort = new Promise<number>((resolve, reject) => {
    child.stderr!.on("data", (d: Buffer) => {
      err = (err + d.toString()).slice(-20_000);
      const line = err.split("\n").find((l) => l.includes('"serving metrics"'));
      if (line !== undefined) resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once("exit", (code) => reject(new Error(`sidecar exited (${code}) before serving metrics:\n${err}`)));
  });
  metricsPort.catch(() => undefined);
  return { child, metricsPort, stderr: () => err };
}

async function stopSidecar(s: Sidecar): Promise<void> {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  const gone = new Promise<void>((r) => s.child.once("exit", () => r()));
  s.child.kill("SIGKILL");
  await gone;
}

/** Lines the sink acknowledged (tailcar_sidecar_lines_written_total, summed over files). */
async function linesAcked(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  let total = 0;
  for (const line of text.split("\n")) if (line.startsWith("tailcar_sidecar_lines_written_total{")) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  return total;
}

/** Polls a VictoriaLogs of one run until it holds `want` rows (it makes rows searchable within about a second). */
async function stored(vl: VictoriaLogs, want: number, timeoutMs = 20_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let n = 0;
  for (let i = 0; i < 200 && Date.now() < deadline; i++) {
    const rows = await query(vl.url, "* | stats count() as n");
    n = Number(rows[0]?.n ?? 0);
    if (n >= want) return n;
    await sleep(250);
  }
  return n;
}

export interface ThroughputRun {
  /** From the first acknowledged line to the last: lines/s while streaming. */
  linesPerS: number;
  /** The sidecar's CPU (all threads, schedstat) over the same span, per million lines. */
  cpuSPerMillion: number;
  /** That CPU over that span's wall time: cores in use while streaming. */
  cores: number;
  /** Spawn to the last acknowledgement, and the CPU of the whole process life until then. */
  wallS: number;
  cpuSWhole: number;
  stored: number;
}

async function throughputRun(mainJs: string, dir: string, sink: ForwardSink, round: number): Promise<ThroughputRun> {
  const tag = `bench-${sink}-${round}`;
  const file = join(dir, `${tag}.log`);
  await writeLines(file, tag, LINES);
  const vl = await startVictoriaLogs();
  try {
    const t0 = performance.now();
    const s = startSidecar(mainJs, file, sink, vl.url, join(dir, `cp-${tag}`));
    try {
      const port = await s.metricsPort;
      let first: { t: number; cpu: number; acked: number } | undefined;
      let acked = 0;
      for (let i = 0; acked < LINES; i++) {
        if (performance.now() - t0 > 600_000) throw new Error(`${sink}: ${acked} of ${LINES} lines acknowledged after 10 minutes:\n${s.stderr()}`);
        acked = await linesAcked(port);
        if (first === undefined && acked > 0) first = { t: performance.now(), cpu: await cpuNs(s.child.pid!), acked };
        if (acked < LINES) await sleep(20);
      }
      const end = { t: performance.now(), cpu: await cpuNs(s.child.pid!) };
      const lines = LINES - first!.acked;
      const seconds = (end.t - first!.t) / 1000;
      const cpuS = (end.cpu - first!.cpu) / 1e9;
      const got = await stored(vl, LINES);
      if (got !== LINES) throw new Error(`${sink}: VictoriaLogs holds ${got} of ${LINES} lines`);
      return { linesPerS: lines / seconds, cpuSPerMillion: (cpuS / lines) * 1e6, cores: cpuS / seconds, wallS: (end.t - t0) / 1000, cpuSWhole: end.cpu / 1e9, stored: got };
    } finally {
      await stopSidecar(s);
    }
  } finally {
    await vl.dispose();
    await rm(file, { force: true });
  }
}

export interface OutageRun {
  sink: ForwardSink;
  downS: number;
  written: number;
  /** smaps_rollup at the start of the outage (5 s in) and its peak over the outage, MiB. */
  rssStartMiB: number;
  rssPeakMiB: number;
  anonStartMiB: number;
  anonPeakMiB: number;
  /** From the backend's start to the last line acknowledged. */
  catchUpS: number;
  stored: number;
}

/** Each output's sidecar at once, backend down for DOWN_S while a writer appends; then the backend comes up. */
async function outage(mainJs: string, dir: string): Promise<OutageRun[]> {
  const runs = await Promise.all(OUTPUTS.map(async (sink) => ({ sink, port: await freePort(), file: join(dir, `down-${sink}.log`), tag: `down-${sink}` })));
  for (const r of runs) await writeFile(r.file, "");
  const sidecars = runs.map((r) => startSidecar(mainJs, r.file, r.sink, `http://127.0.0.1:${r.port}`, join(dir, `cp-${r.tag}`)));
  try {
    await Promise.all(sidecars.map((s) => s.metricsPort));
    const samples = runs.map(() => ({ rss: [] as number[], anon: [] as number[] }));
    let written = 0;
    const started = performance.now();
    for (let tick = 0; performance.now() - started < DOWN_S * 1000; tick++) {
      const due = Math.floor(((performance.now() - started) / 1000) * DOWN_RATE);
      if (due > written) {
        for (const r of runs) await appendFile(r.file, numberedLines(r.tag, written, due - written));
        written = due;
      }
      if (tick % 10 === 0) {
        for (const [i, s] of sidecars.entries()) {
          const m = await memory(s.child.pid!);
          samples[i]!.rss.push(m.rss / 1024);
          samples[i]!.anon.push(m.anonymous / 1024);
        }
      }
      await sleep(100);
    }
    progress(`backend down ${DOWN_S} s, ${written} lines written to each file; starting it`);
    const vls = await Promise.all(runs.map((r) => startVictoriaLogs({ port: r.port })));
    try {
      const up = performance.now();
      const caughtUp = await Promise.all(
        sidecars.map(async (s) => {
          const port = await s.metricsPort;
          for (let i = 0; (await linesAcked(port)) < written; i++) {
            if (performance.now() - up > 300_000) throw new Error(`not caught up after 5 minutes:\n${s.stderr()}`);
            await sleep(50);
          }
          return (performance.now() - up) / 1000;
        }),
      );
      const storedCounts = await Promise.all(runs.map((r, i) => stored(vls[i]!, written)));
      return runs.map((r, i) => {
        const m = samples[i]!;
        // The first sample after 5 s: the process has started and read what was there.
        const at = Math.min(5, m.rss.length - 1);
        return {
          sink: r.sink, downS: DOWN_S, written,
          rssStartMiB: m.rss[at]!, rssPeakMiB: Math.max(...m.rss), anonStartMiB: m.anon[at]!, anonPeakMiB: Math.max(...m.anon),
          catchUpS: caughtUp[i]!, stored: storedCounts[i]!,
        };
      });
    } finally {
      await Promise.all(vls.map((v) => v.dispose()));
    }
  } finally {
    await Promise.all(sidecars.map(stopSidecar));
  }
}

export interface ForwardingRow {
  sink: ForwardSink;
  baseline: boolean;
  linesPerS: Summary;
  cpuSPerMillion: Summary;
  cores: Summary;
  /** lines/s over the baseline's in the same round. */
  ratio: Summary;
  /** CPU per million lines over the baseline's in the same round. */
  cpuRatio: Summary;
  perRound: ThroughputRun[];
}

export interface ForwardingResults {
  date: string; quick: boolean; cores: number; loadAvg: { start: number; end: number }; cpuModel: string; node: string;
  rounds: number; lines: number; lineBytes: number; baseline: ForwardSink; rows: ForwardingRow[]; outage: OutageRun[]; downRate: number;
}

function rotate<T>(xs: readonly T[], by: number): T[] {
  return xs.map((_, i) => xs[(i + by) % xs.length]!);
}

async function main(): Promise<void> {
  if (!sidecarBuilt()) throw new Error("dist/ missing: npm run build first");
  victoriaLogsBinary(); // built once (minutes the first time), before anything is timed
  const dir = await mkdtemp(join(tmpdir(), "tailcar-bench-fwd-"));
  const loadAtStart = loadavg()[0]!;
  stopOnSignal("forwarding", dir, () => { for (const c of children) c.kill("SIGKILL"); });
  try {
    const mainJs = await snapshotBuild(dir);
    const runs = new Map<ForwardSink, ThroughputRun[]>(OUTPUTS.map((s) => [s, []]));
    for (let r = 0; r < ROUNDS; r++) {
      for (const sink of rotate(OUTPUTS, r)) {
        const run = await throughputRun(mainJs, dir, sink, r);
        runs.get(sink)!.push(run);
        progress(`round ${r + 1}/${ROUNDS} ${sink}: ${Math.round(run.linesPerS)} lines/s, ${run.cpuSPerMillion.toFixed(2)} CPU-s per million lines, ${run.cores.toFixed(2)} cores`);
      }
    }
    const base = runs.get(BASELINE)!;
    const rows: ForwardingRow[] = OUTPUTS.map((sink) => {
      const rs = runs.get(sink)!;
      return {
        sink, baseline: sink === BASELINE,
        linesPerS: summarize(rs.map((x) => x.linesPerS)),
        cpuSPerMillion: summarize(rs.map((x) => x.cpuSPerMillion)),
        cores: summarize(rs.map((x) => x.cores)),
        ratio: summarize(pairedRatios(rs.map((x) => x.linesPerS), base.map((x) => x.linesPerS))),
        cpuRatio: summarize(pairedRatios(rs.map((x) => x.cpuSPerMillion), base.map((x) => x.cpuSPerMillion))),
        perRound: rs,
      };
    });
    const down = await outage(mainJs, dir);
    for (const o of down) progress(`down ${o.sink}: RSS ${o.rssStartMiB.toFixed(1)} → peak ${o.rssPeakMiB.toFixed(1)} MiB, caught up in ${o.catchUpS.toFixed(1)} s, ${o.stored}/${o.written} stored`);
    const results: ForwardingResults = {
      ...machineInfo(loadAtStart), quick, rounds: ROUNDS, lines: LINES, lineBytes: LINE_BYTES, baseline: BASELINE, rows, outage: down, downRate: DOWN_RATE,
    };
    const md = renderForwarding(results);
    process.stdout.write(md + "\n");
    if (write) await publish("forwarding", md, results, progress);
  } finally {
    for (const c of children) c.kill("SIGKILL");
    killAll();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench forwarding: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
  process.exitCode = 1;
});

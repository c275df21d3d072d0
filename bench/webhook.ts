// The webhook benchmark (issue 3): POST /mutate with the Kubernetes docs' `application` pod against
// a no-op express handler (same TLS, same server settings, express.json, answers allowed:true)
// measured in the same run, rounds alternating between the servers. Each server runs in a process
// of its own (bench/webhook-server.ts); the load comes from another (bench/webhook-load.ts), over
// keep-alive HTTPS.
// Usage: node bench/webhook.ts [--quick] [--write]  (a full run writes BENCHMARKS.md and
// bench/results/webhook.json; a quick one only prints, unless --write). Progress goes to stderr.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import express from "express";
import { parse } from "yaml";
import { generateCertBundle } from "../webhook/certs.ts";
import { defaultInjectOptions } from "../webhook/options.ts";
import { admit } from "../webhook/admit.ts";
import { jsonBody } from "../webhook/json-body.ts";
import { BODY_LIMIT_BYTES, sendJson } from "../webhook/server.ts";
import { MEMO_LIMIT } from "../webhook/memo.ts";
import { cpuNs } from "./probes.ts";
import { machineInfo, publish } from "./report.ts";
import { benchArgs } from "./tool-args.ts";
import { formatRange, pairedRatios, summarize, type Summary } from "./stats.ts";
import { addedCpuUs, judgeWebhook } from "./webhook-targets.ts";
import type { LoadResult, LoadSpec } from "./webhook-load.ts";
import type { ServerKind, ServerSpec } from "./webhook-server.ts";
import { packageVersion } from "../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();
const DEFAULT_INJECT_OPTIONS = defaultInjectOptions(VERSION);

const SELF = fileURLToPath(import.meta.url);
const LOAD = fileURLToPath(new URL("webhook-load.ts", import.meta.url));
const OPEN_LOOP_RATE = 500;
/** A second open loop, at docs/capacity.md's pod creations a second, for the no-op and /mutate with one pod. */
const LOW_OPEN_LOOP_RATE = 100;
const OPEN_LOOP_WARMUP_SECONDS = 1;

const SERVER = fileURLToPath(new URL("webhook-server.ts", import.meta.url));

export interface ServerProcess {
  readonly port: number;
  /** The process started: the server's, or the tool's that runs it (valgrind). */
  readonly pid: number;
  /** CPU seconds the process has used so far (every thread, schedstat). */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Another checkout's bench/webhook-server.ts, to run an older version of the code. */
  readonly script?: string;
  /** A command to run the server under, e.g. valgrind and its arguments. */
  readonly wrapper?: readonly string[];
  /** Node's own flags for the server process. */
  readonly nodeArgs?: readonly string[];
  readonly listenTimeoutMs?: number;
}

// Servers still running when this process exits (a crash, an EPIPE on a closed pipe), so that
// none outlives it holding a port and a core.
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Starts one benchmark server in a process of its own (bench/webhook-server.ts). */
export function startServer(spec: ServerSpec, options: StartOptions = {}): Promise<ServerProcess> {
  const listenTimeoutMs = options.listenTimeoutMs ?? 30_000;
  const [command, ...args] = [...(options.wrapper ?? []), process.execPath, ...(options.nodeArgs ?? []), options.script ?? SERVER];
  return new Promise((resolve, reject) => {
    const child = spawn(command!, args, { stdio: ["pipe", "pipe", "inherit"] });
    live.add(child);
    const exited = new Promise<void>((done) => child.on("exit", () => {
      live.delete(child);
      done();
    }));
    const failed = (why: string): void => {
      child.kill("SIGKILL");
      reject(new Error(`benchmark server ${spec.kind}: ${why}`));
    };
    const timer = setTimeout(() => failed(`not listening after ${listenTimeoutMs / 1000} s`), listenTimeoutMs);
    const early = (code: number | null): void => failed(`exited with ${code} before listening`);
    child.on("exit", early);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`benchmark server ${spec.kind}: cannot start ${command}: ${e.message}`));
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      const line = out.split("\n")[0];
      if (!out.includes("\n") || line === undefined) return;
      clearTimeout(timer);
      child.off("exit", early);
      const pid = child.pid!;
      resolve({
        port: (JSON.parse(line) as { port: number }).port,
        pid,
        // Per-thread schedstat (ns): /proc/PID/stat's 10 ms ticks are 5 µs a request over an open-loop run.
        cpuSeconds: async () => (await cpuNs(pid)) / 1e9,
        async stop() {
          child.kill("SIGTERM");
          const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
          await exited;
          clearTimeout(killer);
        },
      });
    });
    child.stdin.end(JSON.stringify(spec));
  });
}

export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LOAD], { stdio: ["pipe", "pipe", "inherit"] });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const killer = setTimeout(() => child.kill("SIGKILL"), (spec.seconds + (spec.warmupSeconds ?? 0) + 30) * 1000);
    child.on("exit", (code) => {
      clearTimeout(killer);
      if (code === 0) resolve(JSON.parse(out) as LoadResult);
      else reject(new Error(`load generator exited with ${code}`));
    });
    child.stdin.end(JSON.stringify(spec));
  });
}

// ---- servers and rounds (parent process) ----

export function applicationReview(): string {
  const pod = parse(readFileSync(new URL("../test/golden/application.in.yaml", import.meta.url), "utf8")) as unknown;
  return JSON.stringify({
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: {
      uid: "bench",
      kind: { group: "", version: "v1", kind: "Pod" },
      resource: { group: "", version: "v1", resource: "pods" },
      operation: "CREATE",
      namespace: "default",
      userInfo: { username: "system:serviceaccount:kube-system:replicaset-controller" },
      object: pod,
    },
  });
}

/** tailcar's answer for the benchmark's pod, as /mutate writes it. */
/**
 * `n` reviews of the application pod, each with tailcar.io/* annotations of its own (a CPU request
 * and a file name), so that each is a configuration the webhook has not kept.
 */
export function variedReviews(n: number): string[] {
  const review = JSON.parse(applicationReview()) as { request: { uid: string; object: { metadata: { annotations: Record<string, string> } } } };
  return Array.from({ length: n }, (_, i) => {
    const copy = structuredClone(review);
    copy.request.uid = `varied-${i}`;
    const annotations = copy.request.object.metadata.annotations;
    annotations["tailcar.io/cpu-request"] = `${10 + i}m`;
    annotations["tailcar.io/files"] = `${annotations["tailcar.io/files"]},/var/log/extra-${i}.log`;
    return JSON.stringify(copy);
  });
}

export function tailcarAnswerText(): string {
  return JSON.stringify(admit(JSON.parse(applicationReview()), DEFAULT_INJECT_OPTIONS, VERSION).body);
}

/** Same TLS and server settings as the real handler, express's JSON body parser; answers with a fixed body. */
export function fixedAnswerApp(answer: (uid: string) => unknown): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.post("/mutate", express.json({ limit: BODY_LIMIT_BYTES, strict: false, type: () => true }), (req, res) => {
    res.json(answer((req.body as { request?: { uid?: string } } | undefined)?.request?.uid ?? ""));
  });
  return app;
}

/**
 * A fixed answer read and written as tailcar's /mutate does (its body reader, the text as one
 * string), optionally after running `work` on the parsed review: what serving tailcar's bytes costs
 * apart from computing them, and then what computing them costs under load.
 */
export function tailcarShapedApp(text: string, work?: (review: unknown) => void): express.Express {
  return computedAnswerApp((review) => {
    work?.(review);
    return text;
  });
}

/** Reads the body as tailcar's /mutate does and writes the text `answer` computes from it as tailcar writes its answers. */
export function computedAnswerApp(answer: (review: unknown) => string): express.Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.post("/mutate", jsonBody(BODY_LIMIT_BYTES), (req, res) => {
    sendJson(res, 200, answer(req.body));
  });
  return app;
}

/** The baseline: a no-op express handler that answers allowed: true. */
export function noopApp(): express.Express {
  return fixedAnswerApp((uid) => ({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid, allowed: true } }));
}

export interface WebhookRow {
  readonly name: string;
  readonly reqPerS: Summary;
  readonly cpuUsPerReq: Summary;
  readonly p50Ms: Summary;
  readonly p99Ms: Summary;
  /** Undefined for the reference server that is measured at full load only. */
  readonly openP50Ms?: Summary;
  readonly openP99Ms?: Summary;
  /** p99 at the low open-loop rate; absent for the rows not measured there and from older results. */
  readonly lowOpenP99Ms?: Summary;
  readonly openMaxMs?: Summary;
  /** Server CPU µs a request over the open-loop run; absent from older results. */
  readonly openCpuUsPerReq?: Summary;
  readonly errors: number;
}

export interface WebhookResults {
  readonly date: string;
  readonly quick: boolean;
  readonly cores: number;
  readonly cpuModel: string;
  readonly node: string;
  /** 1-minute load average at the start and the end; absent from results written before it was recorded. */
  readonly loadAvg?: { readonly start: number; readonly end: number };
  readonly rounds: number;
  readonly seconds: number;
  readonly concurrency: number;
  readonly rate: number;
  /** Absent from results written before the low-rate loop was measured. */
  readonly lowRate?: number;
  readonly openWarmupSeconds: number;
  readonly rows: readonly WebhookRow[];
  /** tailcar's throughput ÷ the no-op's, paired per round: reported, no longer a target. */
  readonly throughputRatio: Summary;
  /** Server CPU µs a request /mutate adds over the no-op handler, paired per round: the target (≤ 50). */
  readonly addedCpuUs: Summary;
  /**
   * The same at the open loop's fixed rate (every request its own wake-up, as at a real cluster's
   * admission rates), for information beside the target's full-load figure; absent from older results.
   */
  readonly openAddedCpuUs?: Summary;
  /** The reference server's throughput ÷ the baseline's: what serving tailcar's answer costs apart from computing it. */
  readonly referenceRatio: Summary;
  /** The same with admit() run on every request: computing the answer under load. */
  readonly referenceAdmitRatio: Summary;
  /** Server CPU µs a request that admit() adds under load (reference + admit minus reference, paired per round). */
  readonly admitCpuUs: Summary;
  readonly answerBytes: number;
}

function progress(msg: string): void {
  process.stderr.write(`[bench webhook ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

export async function benchWebhook(quick: boolean): Promise<WebhookResults> {
  const loadStart = loadavg()[0]!;
  const rounds = quick ? 1 : 5;
  const seconds = quick ? 1 : 3;
  const concurrency = 16;
  const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const tls = { cert: bundle.cert, key: bundle.key };
  const body = applicationReview();
  const answerBytes = tailcarAnswerText().length;
  const varied = variedReviews(2 * MEMO_LIMIT);
  const kinds: { name: string; kind: ServerKind; openLoop: boolean; bodies?: readonly string[] }[] = [
    { name: "no-op express handler (baseline)", kind: "noop", openLoop: true },
    { name: "tailcar /mutate", kind: "tailcar", openLoop: true },
    { name: "reference: tailcar's answer, not computed", kind: "reference", openLoop: false },
    { name: "reference + admit() computed and dropped", kind: "reference-admit", openLoop: false },
    // The rows above send one pod, whose parsed annotations and sidecars are kept after the first
    // request (webhook/memo.ts); this one cycles through twice as many annotation sets as are kept.
    { name: `tailcar /mutate, ${varied.length} annotation sets in turn`, kind: "tailcar", openLoop: true, bodies: varied },
  ];
  const servers: { name: string; openLoop: boolean; bodies?: readonly string[]; running: ServerProcess }[] = [];
  const samples = kinds.map(() => ({ rps: [] as number[], p50: [] as number[], p99: [] as number[], oP50: [] as number[], oP99: [] as number[], oMax: [] as number[], oCpuUs: [] as number[], lowP99: [] as number[], cpuUs: [] as number[], errors: 0 }));
  try {
    for (const k of kinds) servers.push({ name: k.name, openLoop: k.openLoop, ...(k.bodies && { bodies: k.bodies }), running: await startServer({ kind: k.kind, tls }) });
    // Warm-up: JIT, TLS sessions.
    for (const s of servers) await runLoad({ port: s.running.port, ca: bundle.caCert, body, ...(s.bodies && { bodies: s.bodies }), seconds: quick ? 1 : 2, concurrency });
    for (let round = 0; round < rounds; round++) {
      // Alternate which server goes first, so drift (thermal, neighbours) does not favour one.
      const forward = servers.map((_, i) => i);
      const order = round % 2 === 0 ? forward : forward.reverse();
      for (const i of order) {
        const s = servers[i]!;
        // Each server is a process of its own, so its CPU time per request is its cost alone: a
        // figure that other load on the machine disturbs far less than throughput.
        const cpu0 = await s.running.cpuSeconds();
        const closed = await runLoad({ port: s.running.port, ca: bundle.caCert, body, ...(s.bodies && { bodies: s.bodies }), seconds, concurrency });
        const cpuS = (await s.running.cpuSeconds()) - cpu0;
        // The closed loop has no warm-up of its own, so that the CPU measured around it covers only
        // the requests it counts (plus its 16 handshakes). The open loop's CPU is divided by every
        // request it sent, its warm-up's included, since the server answered those too.
        const openCpu0 = await s.running.cpuSeconds();
        const open = s.openLoop ? await runLoad({ port: s.running.port, ca: bundle.caCert, body, ...(s.bodies && { bodies: s.bodies }), seconds, rate: OPEN_LOOP_RATE, warmupSeconds: OPEN_LOOP_WARMUP_SECONDS }) : undefined;
        const openCpuS = (await s.running.cpuSeconds()) - openCpu0;
        const low = s.openLoop && s.bodies === undefined ? await runLoad({ port: s.running.port, ca: bundle.caCert, body, seconds, rate: LOW_OPEN_LOOP_RATE, warmupSeconds: OPEN_LOOP_WARMUP_SECONDS }) : undefined;
        const x = samples[i]!;
        if (low) {
          x.lowP99.push(low.p99Ms);
          x.errors += low.errors;
        }
        x.rps.push(closed.completed / closed.seconds);
        x.cpuUs.push((cpuS * 1e6) / (closed.completed + closed.errors));
        x.p50.push(closed.p50Ms);
        x.p99.push(closed.p99Ms);
        x.errors += closed.errors + (open?.errors ?? 0);
        if (open) {
          x.oP50.push(open.p50Ms);
          x.oP99.push(open.p99Ms);
          x.oMax.push(open.maxMs);
          x.oCpuUs.push((openCpuS * 1e6) / open.sent);
        }
        const openText = open ? `; at ${OPEN_LOOP_RATE}/s p99 ${open.p99Ms.toFixed(2)} ms` : "";
        progress(`round ${round + 1}/${rounds} ${s.name}: ${x.rps.at(-1)!.toFixed(0)} req/s, ${x.cpuUs.at(-1)!.toFixed(0)} CPU-µs/req, p99 ${closed.p99Ms.toFixed(2)} ms${openText}`);
      }
    }
  } finally {
    await Promise.all(servers.map((s) => s.running.stop()));
  }
  const rows = servers.map((s, i) => {
    const x = samples[i]!;
    return {
      name: s.name,
      reqPerS: summarize(x.rps),
      cpuUsPerReq: summarize(x.cpuUs),
      p50Ms: summarize(x.p50),
      p99Ms: summarize(x.p99),
      ...(x.oP50.length > 0 ? { openP50Ms: summarize(x.oP50), openP99Ms: summarize(x.oP99), openMaxMs: summarize(x.oMax), openCpuUsPerReq: summarize(x.oCpuUs) } : {}),
      ...(x.lowP99.length > 0 ? { lowOpenP99Ms: summarize(x.lowP99) } : {}),
      errors: x.errors,
    };
  });
  return {
    ...machineInfo(loadStart),
    quick,
    rounds,
    seconds,
    concurrency,
    rate: OPEN_LOOP_RATE,
    lowRate: LOW_OPEN_LOOP_RATE,
    openWarmupSeconds: OPEN_LOOP_WARMUP_SECONDS,
    rows,
    throughputRatio: summarize(pairedRatios(samples[1]!.rps, samples[0]!.rps)),
    addedCpuUs: addedCpuUs(samples[1]!.cpuUs, samples[0]!.cpuUs),
    openAddedCpuUs: addedCpuUs(samples[1]!.oCpuUs, samples[0]!.oCpuUs),
    referenceRatio: summarize(pairedRatios(samples[2]!.rps, samples[0]!.rps)),
    referenceAdmitRatio: summarize(pairedRatios(samples[3]!.rps, samples[0]!.rps)),
    admitCpuUs: summarize(samples[3]!.cpuUs.map((c, i) => c - samples[2]!.cpuUs[i]!)),
    answerBytes,
  };
}

export function renderWebhook(x: WebhookResults): string {
  const r = formatRange;
  const [noop, tailcar] = x.rows;
  const yes = (ok: boolean): string => (ok ? "yes" : "**no**");
  return [
    `## Webhook${x.quick ? " (quick smoke run: not representative)" : ""}`,
    "",
    `${x.date.slice(0, 10)}, ${x.cores} cores (${x.cpuModel}), Node ${x.node}${x.loadAvg ? `, 1-minute load average ${x.loadAvg.start.toFixed(1)} at the start and ${x.loadAvg.end.toFixed(1)} at the end` : ""}. POST /mutate with the Kubernetes docs' \`application\` pod (two files, one shared volume) over HTTPS with keep-alive; the load generator is a separate process. Baseline: a no-op express handler with the same TLS and server settings that parses the body with express.json and answers \`allowed: true\`, measured in the same run, each server in a process of its own (tailcar reads a plain UTF-8 body itself and leaves the rest to express.json: docs/decisions.md); ${x.rounds} rounds of ${x.seconds} s per server and mode, the servers' order reversed every other round. The open loop at ${x.rate} req/s runs ${x.openWarmupSeconds} s unrecorded first (each run is a new client process: TLS handshakes, cold JIT), then records ${x.seconds} s${x.lowRate ? `; the no-op and tailcar's one-pod row also run one at ${x.lowRate}/s, the pod creations a second of docs/capacity.md` : ""}. Server CPU per request is the server process's CPU time (every thread's, schedstat, ns) over the full-load run divided by the requests answered: other load on the machine disturbs it far less than throughput.`,
    "",
    `| server | req/s (${x.concurrency} in flight) | server CPU µs/request | p50 ms | p99 ms | p50 ms at ${x.rate}/s | p99 ms at ${x.rate}/s | max ms at ${x.rate}/s |${x.openAddedCpuUs ? ` server CPU µs/request at ${x.rate}/s |` : ""}${x.lowRate ? ` p99 ms at ${x.lowRate}/s |` : ""} errors |`,
    `|---|---|---|---|---|---|---|---|${x.openAddedCpuUs ? "---|" : ""}${x.lowRate ? "---|" : ""}---|`,
    ...x.rows.map((row) => {
      const open = (v: Summary | undefined): string => (v === undefined ? "—" : r(v));
      return `| ${row.name} | ${r(row.reqPerS, 0)} | ${r(row.cpuUsPerReq, 0)} | ${r(row.p50Ms)} | ${r(row.p99Ms)} | ${open(row.openP50Ms)} | ${open(row.openP99Ms)} | ${open(row.openMaxMs)} |${x.openAddedCpuUs ? ` ${row.openCpuUsPerReq === undefined ? "—" : r(row.openCpuUsPerReq, 0)} |` : ""}${x.lowRate ? ` ${open(row.lowOpenP99Ms)} |` : ""} ${row.errors} |`;
    }),
    "",
    "| target | measured | met |",
    "|---|---|---|",
    ...judgeWebhook(x.addedCpuUs, tailcar!.openP99Ms!, x.rate).map((t) => `| ${t.target} | ${r(t.measured, t.unit === "µs" ? 0 : 2)} ${t.unit} | ${yes(t.met)} |`),
    "",
    `Added CPU: tailcar's ${tailcar!.cpuUsPerReq.median.toFixed(0)} µs a request against the no-op's ${noop!.cpuUsPerReq.median.toFixed(0)} µs (medians); the target is judged on the difference taken round by round.${x.openAddedCpuUs ? ` At ${x.rate} admissions/s, where each request is a wake-up of its own and nothing is batched, the same difference is ${r(x.openAddedCpuUs, 0)} µs (tailcar ${tailcar!.openCpuUsPerReq!.median.toFixed(0)} µs, no-op ${noop!.openCpuUsPerReq!.median.toFixed(0)} µs a request, the open loop's warm-up second included): for information, the target stays judged at full load.` : ""} At ${x.rate} admissions/s the no-op's p99 was ${noop!.openP99Ms!.median.toFixed(2)} ms. Throughput at ${x.concurrency} in flight, for information (no longer a target: it measured express more than tailcar, and the runs' spread was wider than the gap): ${r(x.throughputRatio)}× the no-op's.`,
    "",
    `The reference rows read the body as tailcar does and answer with tailcar's own response (${x.answerBytes} bytes of JSON, the base64 patch adding two sidecars) as one string: without computing it, ${r(x.referenceRatio)}× the baseline's throughput, so the answer's size costs next to nothing; computing it with admit() and dropping the result, ${r(x.referenceAdmitRatio)}×. admit() adds ${r(x.admitCpuUs, 0)} µs of server CPU a request under this load, against about 10 µs in a warm loop (\`bench/webhook-micro.ts\`; the sidecars and their JSON are kept per configuration, docs/decisions.md): in the server its code and data are cold for every request, so the same instructions take longer (callgrind counts: docs/decisions.md, "The webhook's target restated", session 13's follow-up). The log line and the metrics make up the rest of tailcar's row. The machine is shared: compare rows within one run, and runs by their spread. At ${x.rate} req/s the median request takes ${tailcar!.openP50Ms!.median.toFixed(2)} ms (no-op: ${noop!.openP50Ms!.median.toFixed(2)} ms); on a 2-vCPU machine the p99 is set by stalls that hit the server and the client together, the no-op's as much as tailcar's, so compare the two p99s within a run (what the stalls are, measured: docs/decisions.md, "The open-loop p99 on a 2-vCPU machine").`,
  ].join("\n");
}

async function main(): Promise<void> {
  const { quick, write } = benchArgs("webhook");
  const results = await benchWebhook(quick);
  const md = renderWebhook(results);
  process.stdout.write(`${md}\n`);
  if (write) {
    await publish("webhook", md, results, progress);
  }
}

if (process.argv[1] === SELF) {
  main().catch((e: unknown) => {
    process.stderr.write(`bench webhook: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  });
}

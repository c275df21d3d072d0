// Loads servers one at a time with the benchmark's closed-loop load and prints this process's CPU µs
// per request for each, rounds interleaved: a quick way to compare a change against the no-op
// baseline and the reference server without the full benchmark. Run it under `node --cpu-prof`
// (with only `tailcar`) to see where the serving process spends its time.
// The reference-* variants each add one piece of tailcar's work to the reference's fixed answer, and
// tailcar-* take one away, so their difference is that piece's cost under load.
// Usage: node [--cpu-prof] bench/webhook-profile.ts [noop] [noop-raw] [reference] [reference-raw]
//        [reference-spin] [reference-use] [reference-admit] [tailcar] [tailcar-nolog] [tailcar-logfmt]
//        [tailcar-noprocmetrics] [--seconds N] [--rounds N]   (default: noop tailcar)
import { openSync, writeSync } from "node:fs";
import { generateCertBundle } from "../webhook/certs.ts";
import { admit } from "../webhook/admit.ts";
import { batchedSink, createLogger } from "../webhook/log.ts";
import { createMetrics } from "../webhook/metrics.ts";
import { DEFAULT_INJECT_OPTIONS } from "../webhook/options.ts";
import express from "express";
import { jsonBody } from "../webhook/json-body.ts";
import { BODY_LIMIT_BYTES, createApp, Readiness, serve } from "../webhook/server.ts";
import { summarize } from "./stats.ts";
import { applicationReview, fixedAnswerApp, noopApp, runLoad, tailcarShapedApp } from "./webhook.ts";

const argv = process.argv.slice(2);
const flag = (name: string, fallback: number): number => {
  const at = argv.indexOf(name);
  return at >= 0 ? Number(argv[at + 1]) : fallback;
};
const seconds = flag("--seconds", 3);
const rounds = flag("--rounds", 3);
const wanted = argv.filter((a, i) => !a.startsWith("--") && !argv[i - 1]?.startsWith("--"));
const names = wanted.length > 0 ? wanted : ["noop", "tailcar"];
const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
const devNull = openSync("/dev/null", "w");
const logger = createLogger(batchedSink((chunk) => void writeSync(devNull, chunk)));
const readiness = new Readiness();
const body = applicationReview();
const answer = admit(JSON.parse(body), DEFAULT_INJECT_OPTIONS).body;
const answerText = JSON.stringify(answer);
const apps = {
  noop: noopApp,
  reference: () => fixedAnswerApp(() => answer),
  // The no-op reading the body itself instead of with express.json: what express.json costs.
  "noop-raw": () => express().post("/mutate", (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const uid = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as { request?: { uid?: string } }).request?.uid ?? "";
      const text = JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid, allowed: true } });
      res.setHeader("Content-Type", "application/json; charset=utf-8");
      res.setHeader("Content-Length", Buffer.byteLength(text));
      res.end(text);
    });
  }),
  // The reference's bytes, read and written as tailcar's /mutate does (webhook/json-body.ts, one string).
  "reference-raw": () => tailcarShapedApp(answerText),
  // reference-raw plus 40 µs of busy CPU a request: does the rest of the cost scale with slower handling?
  "reference-spin": () => tailcarShapedApp(answerText, () => {
    for (const until = performance.now() + 0.04; performance.now() < until; );
  }),
  // reference-raw behind a global middleware like tailcar's (start time, Connection on shutdown).
  "reference-use": () => express().use((_req, res, next) => {
    res.locals["start"] = process.hrtime.bigint();
    if (readiness.stopping) res.setHeader("Connection", "close");
    next();
  }).post("/mutate", jsonBody(BODY_LIMIT_BYTES), (_req, res) => {
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.setHeader("Content-Length", Buffer.byteLength(answerText));
    res.end(answerText);
  }),
  // reference-raw that also runs admit() on the body and throws its answer away: admit() under load.
  "reference-admit": () => tailcarShapedApp(answerText, (review) => {
    if (admit(review, DEFAULT_INJECT_OPTIONS).status !== 200) throw new Error("admit failed");
  }),
  // Without the log line per admission (a logger that drops everything before formatting it).
  "tailcar-nolog": () => createApp({ options: DEFAULT_INJECT_OPTIONS, metrics: createMetrics(), logger: { log() {}, info() {}, warn() {}, error() {} }, readiness }),
  // The log line formatted but never written: what writing the lines costs, against tailcar.
  "tailcar-logfmt": () => createApp({ options: DEFAULT_INJECT_OPTIONS, metrics: createMetrics(), logger: createLogger(() => {}), readiness }),
  "tailcar-noprocmetrics": () => createApp({ options: DEFAULT_INJECT_OPTIONS, metrics: createMetrics({ processMetrics: false }), logger, readiness }),
  tailcar: () => createApp({ options: DEFAULT_INJECT_OPTIONS, metrics: createMetrics(), logger, readiness }),
} as const;
const servers = [];
for (const name of names) {
  const make = apps[name as keyof typeof apps];
  if (make === undefined) throw new Error(`unknown server ${JSON.stringify(name)}: one of ${Object.keys(apps).join(", ")}`);
  servers.push({ name, cpu: [] as number[], rps: [] as number[], requests: 0, running: await serve(make(), { port: 0, address: "127.0.0.1", tls: { cert: bundle.cert, key: bundle.key } }, readiness) });
}
try {
  for (const s of servers) await runLoad({ port: s.running.port, ca: bundle.caCert, body, seconds: 1, concurrency: 16 });
  for (let round = 0; round < rounds; round++) {
    for (const s of round % 2 === 0 ? servers : [...servers].reverse()) {
      const cpu0 = process.cpuUsage();
      const r = await runLoad({ port: s.running.port, ca: bundle.caCert, body, seconds, concurrency: 16 });
      const cpu = process.cpuUsage(cpu0);
      s.cpu.push((cpu.user + cpu.system) / (r.completed + r.errors));
      s.rps.push(r.completed / r.seconds);
      s.requests += r.completed + r.errors;
    }
  }
  for (const s of servers) {
    const c = summarize(s.cpu);
    const r = summarize(s.rps);
    process.stdout.write(`${s.name.padEnd(10)} CPU-µs/req ${c.median.toFixed(0)} (${c.min.toFixed(0)}–${c.max.toFixed(0)})  req/s ${r.median.toFixed(0)} (${r.min.toFixed(0)}–${r.max.toFixed(0)})  requests ${s.requests}\n`);
  }
} finally {
  for (const s of servers) await s.running.close(1000);
}

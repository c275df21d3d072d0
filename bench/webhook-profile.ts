// Loads servers one at a time with the benchmark's closed-loop load and prints this process's CPU µs
// per request for each, rounds interleaved: a quick way to compare a change against the no-op
// baseline and the reference server without the full benchmark. Run it under `node --cpu-prof`
// (with only `tailcar`) to see where the serving process spends its time.
// All servers share this process; bench/webhook-ab.ts runs each in its own, which is steadier.
// The reference-* variants each add one piece of tailcar's work to the reference's fixed answer, and
// tailcar-* take one away, so their difference is that piece's cost under load.
// Usage: node [--cpu-prof] bench/webhook-profile.ts [KIND...] [noop-raw] [reference-json]
//        [reference-spin] [reference-use] [--seconds N] [--rounds N]   (default: noop tailcar)
//   KIND: one of SERVER_KINDS in bench/webhook-server.ts
import express from "express";
import { generateCertBundle } from "../webhook/certs.ts";
import { admit } from "../webhook/admit.ts";
import { defaultInjectOptions } from "../webhook/options.ts";
import { jsonBody } from "../webhook/json-body.ts";
import { BODY_LIMIT_BYTES, Readiness, serve } from "../webhook/server.ts";
import { summarize } from "./stats.ts";
import { toolArgs } from "./tool-args.ts";
import { applicationReview, fixedAnswerApp, runLoad, tailcarShapedApp } from "./webhook.ts";
import { appFor, SERVER_KINDS } from "./webhook-server.ts";
import { packageVersion } from "../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();
const DEFAULT_INJECT_OPTIONS = defaultInjectOptions(VERSION);

const USAGE = "usage: node [--cpu-prof] bench/webhook-profile.ts [KIND...] [noop-raw] [reference-json] [reference-spin] [reference-use] [--seconds N] [--rounds N]";
const args = toolArgs("webhook-profile", USAGE, { seconds: "number", rounds: "number" });
const seconds = args.number("seconds", 3);
const rounds = args.number("rounds", 3);
const wanted = args.positionals;
const names = wanted.length > 0 ? wanted : ["noop", "tailcar"];
const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
const readiness = new Readiness();
const body = applicationReview();
const answer = admit(JSON.parse(body), DEFAULT_INJECT_OPTIONS, VERSION).body;
const answerText = JSON.stringify(answer);
// Variants of its own, on top of the benchmark's server kinds (bench/webhook-server.ts).
const ownApps = {
  // The old reference: tailcar's answer written with express's res.json (two chunks).
  "reference-json": () => fixedAnswerApp(() => answer),
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
  // reference plus 40 µs of busy CPU a request: does the rest of the cost scale with slower handling?
  "reference-spin": () => tailcarShapedApp(answerText, () => {
    for (const until = performance.now() + 0.04; performance.now() < until; );
  }),
  // reference behind a global middleware like tailcar's (start time, Connection on shutdown).
  "reference-use": () => express().use((_req, res, next) => {
    res.locals["start"] = process.hrtime.bigint();
    if (readiness.stopping) res.setHeader("Connection", "close");
    next();
  }).post("/mutate", jsonBody(BODY_LIMIT_BYTES), (_req, res) => {
    res.setHeader("Content-Type", "application/json; charset=utf-8");
    res.setHeader("Content-Length", Buffer.byteLength(answerText));
    res.end(answerText);
  }),
} as const;
const apps: Record<string, () => express.Express> = {
  ...Object.fromEntries(SERVER_KINDS.map((kind) => [kind, () => appFor(kind, readiness)])),
  ...ownApps,
};
const servers = [];
for (const name of names) {
  const make = Object.hasOwn(apps, name) ? apps[name] : undefined;
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

// Worst-case work per review: pathological Pod CREATEs just under the body limit (huge annotation
// keys and values, thousands of entries, deep nesting, many containers), each timed in-process
// through what the server does with a body: the nesting check, JSON.parse, admit(), the admission
// log line and the answer's JSON. Prints CPU ms per review (median of --rounds), and the log line's and answer's size.
// Usage: node bench/webhook-worst-case.ts [--rounds N] [--only NAME]
import { admit } from "../webhook/admit.ts";
import { nestsDeeperThan, SCAN_FROM_BYTES } from "../webhook/json-depth.ts";
import { createLogger } from "../webhook/log.ts";
import { defaultInjectOptions } from "../webhook/options.ts";
import { admissionReviewJson } from "../webhook/review.ts";
import { BODY_LIMIT_BYTES } from "../webhook/server.ts";
import { summarize } from "./stats.ts";
import { toolArgs } from "./tool-args.ts";
import { applicationReview } from "./webhook.ts";
import { pathologicalReviews } from "./webhook-pathological.ts";
import { packageVersion } from "../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();
const DEFAULT_INJECT_OPTIONS = defaultInjectOptions(VERSION);

const args = toolArgs("webhook-worst-case", "usage: node bench/webhook-worst-case.ts [--rounds N] [--only NAME]", { rounds: "number", only: "string" });
const rounds = args.number("rounds", 5);
const only = args.string("only", "");
const options = Object.freeze({ ...DEFAULT_INJECT_OPTIONS, sidecarMode: "native" as const });

let logBytes = 0;
const logger = createLogger((line) => void (logBytes = line.length));

/** What json-body.ts and server.ts's /mutate handler do with a body, minus the socket. */
function review(text: string, bytes: Buffer): { answerBytes: number } {
  if (bytes.length >= SCAN_FROM_BYTES && nestsDeeperThan([bytes])) return { answerBytes: 0 };
  const outcome = admit(JSON.parse(text), options, VERSION);
  logger.log("info", "admission", {
    ...outcome.fields,
    result: outcome.result,
    injected: outcome.injected,
    warnings: outcome.warnings,
    ...(outcome.skipped !== undefined ? { skipped: outcome.skipped } : {}),
    ms: 0,
  });
  const answer = "response" in outcome.body ? admissionReviewJson(outcome.body) : JSON.stringify(outcome.body);
  return { answerBytes: answer.length };
}

const cases: [string, string][] = [["application (normal pod)", applicationReview()], ...Object.entries(pathologicalReviews(BODY_LIMIT_BYTES - 64 * 1024))];
process.stdout.write(`${"case".padEnd(34)} ${"body".padStart(9)} ${"CPU ms".padStart(9)} ${"min-max".padStart(15)} ${"parse ms".padStart(9)} ${"log line".padStart(10)} ${"answer".padStart(9)}\n`);
for (const [name, text] of cases) {
  if (only !== "" && !name.startsWith(only)) continue;
  const cpu: number[] = [];
  const parse: number[] = [];
  let answerBytes = 0;
  const bytes = Buffer.from(text);
  for (let round = 0; round < rounds; round++) {
    const cpu0 = process.cpuUsage();
    answerBytes = review(text, bytes).answerBytes;
    const used = process.cpuUsage(cpu0);
    cpu.push((used.user + used.system) / 1000);
    const parse0 = process.cpuUsage();
    JSON.parse(text);
    const parsed = process.cpuUsage(parse0);
    parse.push((parsed.user + parsed.system) / 1000);
  }
  const p = summarize(parse).median;
  const s = summarize(cpu);
  process.stdout.write(`${name.padEnd(34)} ${String(text.length).padStart(9)} ${s.median.toFixed(2).padStart(9)} ${`${s.min.toFixed(1)}-${s.max.toFixed(1)}`.padStart(15)} ${p.toFixed(2).padStart(9)} ${String(logBytes).padStart(10)} ${String(answerBytes).padStart(9)}\n`);
}

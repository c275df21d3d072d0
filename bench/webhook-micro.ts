// In-process cost of one admission of the Kubernetes docs' `application` pod, by stage, in CPU µs
// per call (process.cpuUsage, which other load on the machine disturbs far less than wall time).
// Each call gets a freshly parsed review, as a request would. Rounds interleave the stages; the
// figures are the median (min–max) over rounds.
// Usage: node bench/webhook-micro.ts [--rounds N] [--calls N]
import { admit } from "../webhook/admit.ts";
import { inject } from "../webhook/inject.ts";
import { defaultInjectOptions } from "../webhook/options.ts";
import { patchJson } from "../webhook/known-json.ts";
import { podPatch } from "../webhook/patch.ts";
import type { Pod } from "../webhook/pod-types.ts";
import { admissionResponse, admissionReviewJson, type AdmissionReviewResponse } from "../webhook/review.ts";
import { summarize } from "./stats.ts";
import { toolArgs } from "./tool-args.ts";
import { applicationReview } from "./webhook.ts";
import { packageVersion } from "../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();
const DEFAULT_INJECT_OPTIONS = defaultInjectOptions(VERSION);

const args = toolArgs("webhook-micro", "usage: node bench/webhook-micro.ts [--rounds N] [--calls N]", { rounds: "number", calls: "number" });
const rounds = args.number("rounds", 9);
const calls = args.number("calls", 5000);
const body = applicationReview();
const options = DEFAULT_INJECT_OPTIONS;
const fresh = (): { request: { object: Pod } } => JSON.parse(body) as { request: { object: Pod } };
const sample = fresh().request.object;
const injected = inject(sample, options, { version: VERSION });
const patch = podPatch(sample, injected.pod);
const patchText = JSON.stringify(patch);
const review = admissionResponse("bench", patch, injected.warnings);

let sink = 0;
// Each stage's figure is its own cost: the JSON.parse of a fresh review is subtracted where used.
const stages: Record<string, { run: () => void; minus?: string }> = {
  "JSON.parse of the review": { run: () => void (sink += fresh() === undefined ? 0 : 1) },
  "admit (everything below)": { run: () => void (sink += admit(fresh(), options, VERSION).status), minus: "JSON.parse of the review" },
  "inject": { run: () => void (sink += inject(fresh().request.object, options, { version: VERSION }).injected.length), minus: "JSON.parse of the review" },
  "podPatch": { run: () => { const pod = fresh().request.object; sink += podPatch(pod, inject(pod, options, { version: VERSION }).pod).length; }, minus: "inject+parse" },
  "inject+parse": { run: () => void (sink += inject(fresh().request.object, options, { version: VERSION }).injected.length) },
  "patchJson(patch)": { run: () => void (sink += patchJson(patch).text.length) },
  "JSON.stringify(patch)": { run: () => void (sink += JSON.stringify(patch).length) },
  "btoa of the patch JSON": { run: () => void (sink += btoa(patchText).length) },
  "admissionResponse": { run: () => void (sink += admissionResponse("bench", patch, injected.warnings).response.uid.length) },
  "admissionReviewJson": { run: () => void (sink += admissionReviewJson(review as AdmissionReviewResponse).length) },
};

const samples = new Map<string, number[]>(Object.keys(stages).map((k) => [k, []]));
for (let round = 0; round < rounds + 1; round++) {
  for (const [name, stage] of Object.entries(stages)) {
    const cpu0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) stage.run();
    const cpu = process.cpuUsage(cpu0);
    if (round > 0) samples.get(name)!.push((cpu.user + cpu.system) / calls); // round 0 warms up
  }
}
const median = (name: string): number => summarize(samples.get(name)!).median;
for (const [name, stage] of Object.entries(stages)) {
  if (name === "inject+parse") continue;
  const s = summarize(samples.get(name)!);
  const minus = stage.minus === undefined ? 0 : median(stage.minus);
  process.stdout.write(`${name.padEnd(28)} ${(s.median - minus).toFixed(1).padStart(6)} µs  (${(s.min - minus).toFixed(1)}–${(s.max - minus).toFixed(1)})\n`);
}
if (sink === 0) process.stdout.write("\n");

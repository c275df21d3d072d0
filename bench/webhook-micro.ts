import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { admit } from "../webhook/admit.ts";
import { inject } from "../webhook/inject.ts";
import { podPatch } from "../webhook/patch.ts";
import { admissionResponse } from "../webhook/review.ts";
import { DEFAULT_INJECT_OPTIONS as O } from "../webhook/options.ts";
const pod = parse(readFileSync(new URL("../test/golden/application.in.yaml", import.meta.url), "utf8"));
const body = JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request: { uid: "bench", kind: { group: "", version: "v1", kind: "Pod" }, resource: { group: "", version: "v1", resource: "pods" }, operation: "CREATE", namespace: "default", userInfo: { username: "x" }, object: pod } });
function time(name: string, f: () => unknown, n = 20000) {
  for (let i = 0; i < 2000; i++) f();
  const best: number[] = [];
  for (let r = 0; r < 5; r++) { const c = process.cpuUsage(); for (let i = 0; i < n; i++) f(); const u = process.cpuUsage(c); best.push((u.user + u.system) / n); }
  best.sort((a, b) => a - b);
  console.log(name.padEnd(28), best.map((x) => x.toFixed(1)).join(" "), "median", best[2]!.toFixed(1));
}
const res = inject(pod, O);
const patch = podPatch(pod, res.pod);
const outcome = admit(JSON.parse(body), O);
time("JSON.parse body", () => JSON.parse(body));
time("admit", () => admit(JSON.parse(body), O));
time("inject", () => inject(pod, O));
time("structuredClone pod", () => structuredClone(pod));
time("compare", () => podPatch(pod, res.pod));
time("admissionResponse", () => admissionResponse("x", patch, res.warnings));
time("stringify outcome.body", () => JSON.stringify(outcome.body));
const sidecars = res.pod.spec!.initContainers!;
time("JSON clone of sidecars", () => JSON.parse(JSON.stringify(sidecars)));
time("stringify sidecars", () => JSON.stringify(sidecars));
time("stringify patch", () => JSON.stringify(patch));
time("base64 patch", () => Buffer.from(JSON.stringify(patch)).toString("base64"));
import { parseAdmissionReview } from "../webhook/review.ts";
const parsedBody = JSON.parse(body);
time("parseAdmissionReview", () => parseAdmissionReview(parsedBody));
import { parsePodConfig } from "../webhook/annotations.ts";
time("parsePodConfig", () => parsePodConfig(pod.metadata.annotations, O));
time("admit fresh-only parse", () => JSON.parse(body));

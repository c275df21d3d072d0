import assert from "node:assert/strict";
import { test } from "node:test";
import { GoMissingError } from "../localcluster/harness/go-build.ts";
import { prepare, STEPS, summary, type PrepareStep } from "./prepare.ts";

const quiet = (): void => {};

test("prepare runs every step in order; a failed step is reported with its reason and the later ones still run", async () => {
  const ran: string[] = [];
  const steps: PrepareStep[] = [
    { name: "a", needsGo: false, run: () => void ran.push("a") },
    { name: "b", needsGo: false, run: () => { ran.push("b"); throw new Error("disk full"); } },
    { name: "c", needsGo: false, run: async () => void ran.push("c") },
  ];
  const results = await prepare(steps, quiet);
  assert.deepEqual(ran, ["a", "b", "c"]);
  assert.deepEqual(results.map((r) => [r.name, r.outcome, r.detail]), [["a", "ready", undefined], ["b", "failed", "disk full"], ["c", "ready", undefined]]);
});

test("prepare: once Go is found missing, the later Go builds are skipped with its reason, and a step that needs no Go still runs", async () => {
  const ran: string[] = [];
  const steps: PrepareStep[] = [
    { name: "control plane", needsGo: true, run: () => { throw new GoMissingError("go: not found"); } },
    { name: "VictoriaLogs", needsGo: true, run: () => void ran.push("vl") },
    { name: "images", needsGo: false, run: () => void ran.push("images") },
    { name: "node-only", needsGo: false, unavailable: () => "the real node needs root", run: () => void ran.push("node-only") },
  ];
  const results = await prepare(steps, quiet);
  assert.deepEqual(ran, ["images"]);
  assert.deepEqual(results.map((r) => r.outcome), ["failed", "skipped", "ready", "skipped"]);
  assert.match(results[1]!.detail ?? "", /Go is required/);
  assert.equal(results[3]!.detail, "the real node needs root");
  assert.match(summary(results), /^prepare: .* in all\n {2}failed .*control plane: Go is required/);
});

test("prepare's steps cover every binary and image the e2e tests build on demand", () => {
  const names = STEPS.map((s) => s.name).join("\n");
  for (const piece of ["kube-apiserver", "etcd", "kubelet", "kube-scheduler", "kubectl", "VictoriaLogs", "OpenTelemetry Collector", "helm", "actionlint", "Prometheus Operator CRDs", "PromQL parser", "sidecar", "webhook image"]) assert.match(names, new RegExp(piece));
});

// `npm test`'s step between the TypeScript build and the tests: finds in the user cache, or builds,
// everything the e2e and real-node tests run (control plane, node, kubectl, VictoriaLogs, the
// OpenTelemetry Collector, helm, actionlint, the Prometheus Operator's CRDs, Prometheus's PromQL
// parser, the node's images). Why a step of its own: from cold caches these builds take 30-80
// minutes on two cores, and inside the tests the first one to need a binary would wait for its
// build within that test's timeout (a cold CI run failed the demo test after 14 minutes, with only
// etcd built). Here each build is one line of progress and one timing in the summary; the tests
// then start from warm caches. Run on its own: `node test/prepare.ts`.
import { fileURLToPath } from "node:url";
import { resolve } from "node:path";
import { findOrBuildControlPlane, findOrBuildKubectl, findOrBuildNode } from "../localcluster/harness/build.ts";
import { GoMissingError } from "../localcluster/harness/go-build.ts";
import { findOrBuildImages, findOrBuildWebhookImage } from "../localcluster/images.ts";
import { realNodeUnavailable } from "../localcluster/prerequisites.ts";
import { otelCollectorBinary } from "../localcluster/backend/otel-collector.ts";
import { victoriaLogsBinary } from "../localcluster/backend/victorialogs.ts";
import { actionlintBinary, helmBinary, prometheusOperatorCrds, promqlParseBinary } from "../localcluster/tools/go-tools.ts";

export interface PrepareStep {
  readonly name: string;
  /** Why this machine does without it (its tests then skip, or fail on CI, saying the same). */
  readonly unavailable?: () => string | undefined;
  /** Built with Go: once Go is found missing, the later such steps are skipped with the same reason. */
  readonly needsGo: boolean;
  readonly run: () => unknown;
}

export interface StepResult {
  readonly name: string;
  readonly outcome: "ready" | "skipped" | "failed";
  readonly ms: number;
  readonly detail?: string;
}

const log = (line: string): void => void process.stderr.write(`prepare: ${line}\n`);

export const STEPS: readonly PrepareStep[] = [
  { name: "control plane (kube-apiserver, kube-controller-manager, etcd)", needsGo: true, run: () => findOrBuildControlPlane((l) => log(l)) },
  { name: "node binaries (kubelet, kube-scheduler)", needsGo: true, run: () => findOrBuildNode((l) => log(l)) },
  { name: "kubectl", needsGo: true, run: () => findOrBuildKubectl((l) => log(l)) },
  { name: "VictoriaLogs", needsGo: true, run: () => victoriaLogsBinary() },
  { name: "OpenTelemetry Collector", needsGo: true, run: () => otelCollectorBinary() },
  { name: "helm", needsGo: true, run: () => helmBinary() },
  { name: "actionlint", needsGo: true, run: () => actionlintBinary() },
  { name: "Prometheus Operator CRDs", needsGo: true, run: () => prometheusOperatorCrds() },
  { name: "promql-parse (Prometheus's PromQL parser)", needsGo: true, run: () => promqlParseBinary() },
  { name: "node images (busybox, pause, sidecar)", unavailable: realNodeUnavailable, needsGo: false, run: () => findOrBuildImages((l) => log(l)) },
  { name: "webhook image", unavailable: realNodeUnavailable, needsGo: false, run: () => findOrBuildWebhookImage((l) => log(l)) },
];

/** Runs the steps in order; a step that fails is reported and the others still run (each test then says what it lacks). */
export async function prepare(steps: readonly PrepareStep[], say: (line: string) => void = log): Promise<StepResult[]> {
  const results: StepResult[] = [];
  let goMissing: string | undefined;
  for (const step of steps) {
    const started = Date.now();
    const reason = step.unavailable?.() ?? (step.needsGo ? goMissing : undefined);
    if (reason !== undefined) {
      results.push({ name: step.name, outcome: "skipped", ms: 0, detail: reason });
      say(`${step.name}: skipped: ${reason}`);
      continue;
    }
    say(`${step.name}: finding or building…`);
    try {
      await step.run();
      results.push({ name: step.name, outcome: "ready", ms: Date.now() - started });
      say(`${step.name}: ready in ${seconds(Date.now() - started)}`);
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      if (e instanceof GoMissingError) goMissing = message;
      results.push({ name: step.name, outcome: "failed", ms: Date.now() - started, detail: message });
      say(`${step.name}: FAILED after ${seconds(Date.now() - started)}: ${message}`);
    }
  }
  return results;
}

export function summary(results: readonly StepResult[]): string {
  const total = results.reduce((sum, r) => sum + r.ms, 0);
  const rows = results.map((r) => `  ${r.outcome.padEnd(7)} ${seconds(r.ms).padStart(8)}  ${r.name}${r.detail ? `: ${r.detail}` : ""}`);
  return [`prepare: ${seconds(total)} in all`, ...rows].join("\n");
}

function seconds(ms: number): string {
  return ms >= 60_000 ? `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, "0")}s` : `${(ms / 1000).toFixed(1)}s`;
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  const results = await prepare(STEPS);
  process.stderr.write(`${summary(results)}\n`);
  // On CI a missing piece would only show later, as many failing tests: stop here with its reason.
  if (process.env.CI === "true" && results.some((r) => r.outcome !== "ready")) process.exit(1);
}

// Renders the Helm chart and builds the kustomize installs, for test/helm-chart.test.ts and
// test/e2e/manifests-server.test.ts: helm and kubectl built from their pinned Go modules and cached
// (test/prepare.ts builds both), and what the chart's objects may differ in from kustomize's.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubernetesObject } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { parseObjects } from "../localcluster/harness/index.ts";
import { findOrBuildKubectl } from "../localcluster/harness/build.ts";
import { helmBinary } from "../localcluster/tools/go-tools.ts";

export const MANIFESTS = fileURLToPath(new URL("../manifests/", import.meta.url));
export const CHART = join(MANIFESTS, "helm", "tailcar");
/** The namespace the kustomize installs use, and so the release's in every comparison. */
export const NAMESPACE = "tailcar-system";

export interface Tools {
  readonly helm: string;
  readonly kubectl: string;
}

/** helm and kubectl, or why there are none (on CI a missing tool is an error, not a skip). */
export async function chartTools(): Promise<Tools | string> {
  try {
    return { helm: helmBinary(), kubectl: await findOrBuildKubectl(() => {}) };
  } catch (e) {
    if (process.env.CI === "true") throw e;
    return `helm or kubectl could not be built here: ${e instanceof Error ? e.message : String(e)}`;
  }
}

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `helm ARGS` with `values` given as a values file (not --set, whose own parsing would be under test too). */
export function helm(tools: Tools, args: readonly string[], values: object = {}): Run {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-chart-"));
  try {
    const file = join(dir, "values.yaml");
    writeFileSync(file, stringify(values));
    const run = spawnSync(tools.helm, [...args, "-f", file], { encoding: "utf8", timeout: 60_000, env: { ...process.env, HELM_CACHE_HOME: join(dir, "cache"), HELM_CONFIG_HOME: join(dir, "config"), HELM_DATA_HOME: join(dir, "data") } });
    return { status: run.status, stdout: run.stdout ?? "", stderr: run.stderr ?? "" };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The chart's objects for `values`, released as "tailcar" into NAMESPACE. */
export function renderChart(tools: Tools, values: object = {}): KubernetesObject[] {
  const run = helm(tools, ["template", "tailcar", CHART, "--namespace", NAMESPACE], values);
  if (run.status !== 0) throw new Error(`helm template failed (exit ${run.status}): ${run.stderr}`);
  return parseObjects(run.stdout);
}

/** `kubectl kustomize manifests/DIR`. */
export function kustomize(tools: Tools, dir: string): KubernetesObject[] {
  const run = spawnSync(tools.kubectl, ["kustomize", join(MANIFESTS, dir)], { encoding: "utf8", timeout: 30_000 });
  if (run.status !== 0) throw new Error(`kubectl kustomize manifests/${dir} failed: ${run.stderr}`);
  return parseObjects(run.stdout);
}

/** The labels Helm's convention adds to every object of the chart (docs/webhook.md, "Installing with Helm"). */
export const HELM_LABELS = ["app.kubernetes.io/managed-by", "app.kubernetes.io/instance", "app.kubernetes.io/version", "helm.sh/chart"] as const;

type Loose = Record<string, unknown>;

/**
 * `objects` without what may differ between the chart and kustomize: Helm's labels, and the order
 * of the webhook container's environment (each variable is set once and none refers to another).
 * Sorted by kind and name.
 */
export function comparable(objects: readonly KubernetesObject[]): Loose[] {
  return objects
    .map((o) => {
      const copy = structuredClone(o) as Loose & KubernetesObject;
      const labels = copy.metadata?.labels;
      if (labels) for (const l of HELM_LABELS) delete labels[l];
      const containers = (copy as { spec?: { template?: { spec?: { containers?: { env?: { name: string }[] }[] } } } }).spec?.template?.spec?.containers ?? [];
      for (const c of containers) c.env?.sort((a, b) => a.name.localeCompare(b.name));
      return copy;
    })
    .sort((a, b) => `${a.kind}/${a.metadata?.name}`.localeCompare(`${b.kind}/${b.metadata?.name}`));
}

// The shipped PodMonitor (manifests/monitoring/podmonitor.yaml) against what the injector makes, as
// the golden files hold it: it selects exactly the pods whose sidecars serve metrics, keeps every
// sidecar's metrics port by name and no port of the app's, and docs/sidecar.md's plain scrape job
// says the same.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import { METRICS_PATH } from "../../settings/sidecar-paths.ts";
import { POD_ROWS } from "../../webhook/injection-rows.ts";
import { METRICS_LABEL, METRICS_LABEL_VALUE, METRICS_PORT_NAME_PREFIX, METRICS_PORT_NAME_REGEX } from "../../webhook/metrics-ports.ts";
import type { Container, Pod } from "../../webhook/pod-types.ts";
import { loadGoldenCases } from "../golden/fixtures.ts";

interface Relabeling {
  sourceLabels?: string[];
  regex?: string;
  action?: string;
}

interface PodMonitor {
  kind: string;
  spec: {
    namespaceSelector?: { any?: boolean };
    selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    podMetricsEndpoints: { path?: string; port?: string; relabelings?: Relabeling[] }[];
  };
}

const monitor = parse(readFileSync(new URL("../../manifests/monitoring/podmonitor.yaml", import.meta.url), "utf8")) as PodMonitor;
const [endpoint] = monitor.spec.podMetricsEndpoints;
const keepPort = endpoint?.relabelings?.find((r) => r.action === "keep" && r.sourceLabels?.join() === "__meta_kubernetes_pod_container_port_name");
/** As Prometheus applies a relabeling's regex: anchored at both ends. */
const keeps = (name: string): boolean => new RegExp(`^(?:${keepPort?.regex})$`).test(name);

const selects = (pod: Pod): boolean => Object.entries(monitor.spec.selector.matchLabels ?? {}).every(([k, v]) => pod.metadata?.labels?.[k] === v);
const containersOf = (pod: Pod): Container[] => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];

const outputs = loadGoldenCases().map((c) => ({ name: c.name, result: c.expected! }));

test("the PodMonitor: every namespace, pods by the injector's label alone, the sidecars' metrics path, ports kept by the injector's name pattern", () => {
  assert.equal(monitor.kind, "PodMonitor");
  assert.deepEqual(monitor.spec.namespaceSelector, { any: true });
  assert.deepEqual(monitor.spec.selector, { matchLabels: { [METRICS_LABEL]: METRICS_LABEL_VALUE } });
  assert.equal(METRICS_LABEL, POD_ROWS.find((r) => r.key === "sidecarMetrics")?.annotation, "the label is the annotation's key (docs/sidecar.md)");
  assert.equal(monitor.spec.podMetricsEndpoints.length, 1);
  assert.equal(endpoint?.path, METRICS_PATH);
  assert.equal(endpoint?.port, undefined, "a port field would name one port; each sidecar has its own");
  assert.equal(keepPort?.regex, METRICS_PORT_NAME_REGEX);
});

test("the PodMonitor selects every golden pod whose sidecars serve metrics, and keeps each sidecar's port and no other", () => {
  const withMetrics = outputs.filter((o) => containersOf(o.result.pod).some((c) => c.readinessProbe !== undefined));
  assert.deepEqual(withMetrics.map((o) => o.name).sort(), ["sidecar-metrics", "sidecar-metrics-ports"]);
  for (const { name, result } of withMetrics) {
    assert.ok(selects(result.pod), `${name}: not selected; labels ${JSON.stringify(result.pod.metadata?.labels)}`);
    for (const c of containersOf(result.pod)) {
      const sidecar = result.injected.includes(c.name);
      const ports = c.ports ?? [];
      if (sidecar) assert.equal(ports.length, 1, `${name}/${c.name}: one metrics port`);
      // A port of the pod's own named as ours would be kept too (docs/sidecar.md says so): the
      // golden pod has one, to show the injector skips its number.
      for (const p of ports) assert.equal(keeps(String(p.name)), sidecar || String(p.name).startsWith(METRICS_PORT_NAME_PREFIX), `${name}/${c.name}: port ${p.name} (${p.containerPort})`);
    }
  }
});

test("the PodMonitor selects no golden pod whose sidecars serve no metrics", () => {
  for (const { name, result } of outputs) {
    if (containersOf(result.pod).some((c) => c.readinessProbe !== undefined)) continue;
    assert.equal(selects(result.pod), false, `${name} is selected`);
  }
});

test("docs/sidecar.md's scrape job for Prometheus without the operator keeps the same label and port names", () => {
  const doc = readFileSync(new URL("../../docs/sidecar.md", import.meta.url), "utf8");
  const job = /```yaml\n(- job_name: tailcar-sidecars[\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(job, "the scrape job in docs/sidecar.md");
  const [config] = parse(job) as { relabel_configs: { source_labels: string[]; regex: string; action?: string }[] }[];
  const keep = (source: string) => config!.relabel_configs.find((r) => r.action === "keep" && r.source_labels.join() === source)?.regex;
  // Prometheus turns a label's name into [a-zA-Z0-9_] for its meta label.
  assert.equal(keep(`__meta_kubernetes_pod_label_${METRICS_LABEL.replace(/[^a-zA-Z0-9_]/g, "_")}`), METRICS_LABEL_VALUE);
  assert.equal(keep("__meta_kubernetes_pod_container_port_name"), METRICS_PORT_NAME_REGEX);
});

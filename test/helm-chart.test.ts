// The Helm chart renders the objects of the kustomize install for the same choices, up to the
// differences docs/webhook.md lists (Helm's labels; the Namespace only with namespace.create; the
// order of the container's environment), passes `helm lint --strict`, carries every setting of its
// values to the webhook's container as the rows read them, and refuses what it cannot install.
// test/e2e/manifests-server.test.ts has a real API server accept its objects.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type { KubernetesObject, V1Container, V1Deployment, V1Pod } from "@kubernetes/client-node";
import { parse } from "yaml";
import { resolveEnv } from "../localcluster/harness/local-pod-spec.ts";
import { readSettings } from "../settings/read.ts";
import type { AnyRow } from "../settings/row.ts";
import { CHART_WIRED, chartRows } from "../webhook/chart-values.ts";
import { parseWebhookSettings } from "../webhook/settings.ts";
import { WEBHOOK_ROWS } from "../webhook/webhook-rows.ts";
import { CHART, chartTools, comparable, helm, kustomize, MANIFESTS, NAMESPACE, renderChart, type Tools } from "./chart-render.ts";

let tools: Tools | string = "not looked for yet";
const ready = (): Tools => {
  assert.ok(typeof tools !== "string", tools as string);
  return tools;
};

/** The CIDRs the apiserver-only overlay's patch names, as the chart's networkPolicy.from. */
const apiserverSources = (): unknown => (parse(readFileSync(join(MANIFESTS, "overlays/apiserver-only/networkpolicy-patch.yaml"), "utf8")) as { spec: { ingress: { from: unknown }[] } }).spec.ingress[0]!.from;

const CASES = [
  { overlay: "overlays/self-bootstrap", values: {} },
  { overlay: "overlays/cert-manager", values: { tls: { mode: "cert-manager" } } },
  { overlay: "overlays/apiserver-only", values: { networkPolicy: { from: apiserverSources() } } },
] as const;

function webhookContainer(objects: readonly KubernetesObject[]): { pod: V1Pod; container: V1Container } {
  const deployment = objects.find((o) => o.kind === "Deployment") as V1Deployment;
  const pod = { metadata: { ...deployment.spec!.template.metadata, namespace: deployment.metadata!.namespace }, spec: deployment.spec!.template.spec! } as V1Pod;
  return { pod, container: pod.spec!.containers[0]! };
}

/** A valid value of `row` other than its default where the row gives one, as a values file writes it. */
function exampleOf(row: AnyRow): unknown {
  if (row.example !== undefined) return row.example;
  if (row.kind.list) return ["192.0.2.7", "192.0.2.8"];
  if (row.kind.boolean) return !row.default;
  return row.kind.format(row.default);
}

describe("the Helm chart", () => {
  before(async (t) => {
    tools = await chartTools();
    if (typeof tools === "string") t.diagnostic(tools);
  });

  for (const { overlay, values } of CASES) {
    test(`helm template with ${JSON.stringify(values)} gives the objects of kubectl kustomize manifests/${overlay}, but for Helm's labels`, (t) => {
      if (typeof tools === "string") return t.skip(tools);
      const fromChart = comparable(renderChart(ready(), { ...values, namespace: { create: true } }));
      const fromKustomize = comparable(kustomize(ready(), overlay));
      const names = (list: typeof fromChart): string[] => list.map((o) => `${o.kind as string}/${(o.metadata as { name: string }).name}`);
      assert.deepEqual(names(fromChart), names(fromKustomize), "the same objects");
      for (let i = 0; i < fromChart.length; i++) assert.deepEqual(fromChart[i], fromKustomize[i], `${names(fromChart)[i]}`);
    });
  }

  test("without namespace.create the chart renders no Namespace (helm install needs the namespace to exist), and the rest is unchanged", (t) => {
    if (typeof tools === "string") return t.skip(tools);
    const plain = renderChart(ready());
    assert.deepEqual(plain.filter((o) => o.kind === "Namespace"), []);
    const withNamespace = renderChart(ready(), { namespace: { create: true } }).filter((o) => o.kind !== "Namespace");
    assert.deepEqual(comparable(plain), comparable(withNamespace));
  });

  for (const mode of ["self-bootstrap", "cert-manager"]) {
    test(`helm lint --strict is clean with tls.mode ${mode}`, (t) => {
      if (typeof tools === "string") return t.skip(tools);
      const run = helm(ready(), ["lint", "--strict", CHART, "--namespace", NAMESPACE], { tls: { mode } });
      assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
      assert.match(run.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
      assert.doesNotMatch(run.stdout, /\[(WARNING|ERROR)\]/);
    });
  }

  test("every key of settings reaches the webhook's container as its variable, and the webhook reads each value back as given", (t) => {
    if (typeof tools === "string") return t.skip(tools);
    const rows = [...chartRows().injection, ...chartRows().webhook];
    assert.ok(rows.length >= 15, `the chart takes the injection and webhook settings (${rows.length})`);
    const settings = Object.fromEntries(rows.map((r) => [r.fileKey!, exampleOf(r)]));
    const { pod, container } = webhookContainer(renderChart(ready(), { settings }));
    const env = resolveEnv(pod, container, { cpus: 1, memoryBytes: 0 });
    parseWebhookSettings(container.args!.slice(1), env, () => assert.fail("no config file is expected"));
    const read = readSettings(WEBHOOK_ROWS, { env, command: "tailcar webhook" }) as Record<string, unknown>;
    for (const row of rows) {
      const example = exampleOf(row);
      const expected = row.kind.list ? example : row.kind.parse(String(example));
      assert.deepEqual(read[row.key], expected, `settings.${row.fileKey} (${row.env})`);
    }
  });

  test("a settings key the chart does not pass on, one it sets itself, a bad tls.mode or failurePolicy: the render fails naming it", (t) => {
    if (typeof tools === "string") return t.skip(tools);
    const refused = [
      [{ settings: { cpuRequets: "20m" } }, /settings\.cpuRequets: not a setting of the chart \(known: .*cpuRequest/],
      [{ settings: { [[...CHART_WIRED][0]!]: "1" } }, /not a setting of the chart/],
      [{ tls: { mode: "vault" } }, /tls\.mode: "vault" is not one of self-bootstrap, cert-manager/],
      [{ admission: { failurePolicy: "Sometimes" } }, /admission\.failurePolicy: "Sometimes" is not one of Ignore, Fail/],
    ] as const;
    for (const [values, message] of refused) {
      const run = helm(ready(), ["template", "tailcar", CHART, "--namespace", NAMESPACE], values);
      assert.notEqual(run.status, 0, JSON.stringify(values));
      assert.match(run.stderr, message);
    }
  });

  test("the namespace selector, failure policy, image, replicas and resources come from the values", (t) => {
    if (typeof tools === "string") return t.skip(tools);
    const objects = renderChart(ready(), {
      image: { repository: "registry.example/tailcar-webhook", tag: "9.9.9" },
      replicas: 3,
      resources: { requests: { cpu: "100m", memory: "128Mi" } },
      admission: { failurePolicy: "Fail", excludedNamespaces: ["kube-system", "monitoring"], namespaceSelector: { matchExpressions: [{ key: "team", operator: "In", values: ["shop"] }] } },
    });
    const deployment = objects.find((o) => o.kind === "Deployment") as V1Deployment;
    assert.equal(deployment.spec!.replicas, 3);
    const { container } = webhookContainer(objects);
    assert.equal(container.image, "registry.example/tailcar-webhook:9.9.9");
    // Helm merges a map of values into the chart's: the limit not given stays.
    assert.deepEqual(container.resources, { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } });
    const mwc = objects.find((o) => o.kind === "MutatingWebhookConfiguration") as KubernetesObject & { webhooks: { failurePolicy: string; namespaceSelector: { matchExpressions: unknown[] } }[] };
    for (const w of mwc.webhooks) {
      assert.equal(w.failurePolicy, "Fail");
      assert.deepEqual(w.namespaceSelector.matchExpressions.slice(1), [
        { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system", "monitoring", NAMESPACE] },
        { key: "team", operator: "In", values: ["shop"] },
      ]);
    }
  });
});

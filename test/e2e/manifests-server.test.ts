// The shipped manifests as a real API server takes them: each install and the example, built by
// kustomize, the monitoring objects (against the Prometheus Operator's own CRDs, installed here), and
// the Helm chart rendered for each TLS mode with monitoring on, pass `kubectl apply --dry-run=server
// --validate=strict` (every field known to the API, every value valid); and the examples' pods, injected by `tailcar webhook`, are admitted in a
// namespace that enforces Pod Security `restricted`, with the sidecars their READMEs describe.
import assert from "node:assert/strict";
import { execFileSync, spawnSync, type SpawnSyncReturns } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { KubernetesObject, V1Container, V1Deployment, V1Pod } from "@kubernetes/client-node";
import { stringify } from "yaml";
import { parseSidecarConfig } from "../../sidecar/config.ts";
import { parseObjects } from "../../localcluster/harness/index.ts";
import { findOrBuildKubectl } from "../../localcluster/harness/build.ts";
import { GoMissingError } from "../../localcluster/harness/go-build.ts";
import { resolveEnv } from "../../localcluster/harness/local-pod-spec.ts";
import { startWebhookCluster, type WebhookCluster } from "./webhook-cluster.ts";
import { applicationPodYAML, REPO_ROOT } from "../../localcluster/webhook-process.ts";
import { chartTools, renderChart } from "../chart-render.ts";
import { prometheusOperatorCrds } from "../../localcluster/tools/go-tools.ts";

const START_MS = 10 * 60_000;
const MANIFESTS = join(REPO_ROOT, "manifests");
const EXAMPLES = ["examples/fluent-bit-opensearch", "examples/forward-loki", "examples/otel-collector"] as const;
const RESTRICTED = { "tailcar.io/injection": "enabled", "pod-security.kubernetes.io/enforce": "restricted", "pod-security.kubernetes.io/enforce-version": "latest" };
/**
 * kubectl built from the cluster's own pins (its kustomize and its validation are that version's);
 * without Go to build it, the one on PATH, if any (tests that need it skip otherwise).
 */
let kubectl = "";
async function findKubectl(): Promise<string> {
  try {
    return await findOrBuildKubectl();
  } catch (e) {
    if (!(e instanceof GoMissingError)) throw e;
    return spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0 ? "kubectl" : "";
  }
}

/** Kinds whose API comes with an operator this control plane does not run (their CRDs are not here). */
const NEEDS_CRDS = new Set(["cert-manager.io/v1 Certificate", "cert-manager.io/v1 Issuer"]);
/** The Prometheus Operator's kinds that manifests/monitoring and the chart's monitoring.enabled use: their CRDs are installed here. */
const MONITORING_KINDS = ["ServiceMonitor", "PodMonitor", "PrometheusRule"] as const;

function kustomize(dir: string): KubernetesObject[] {
  return parseObjects(execFileSync(kubectl, ["kustomize", join(MANIFESTS, dir)], { encoding: "utf8", timeout: 30_000 }));
}

const kindName = (o: KubernetesObject): string => `${o.kind!.toLowerCase()}/${o.metadata!.name}`;

/** An example Deployment's pod, as its ReplicaSet would create it in `namespace`. */
function examplePod(example: string, namespace: string, name: string): V1Pod {
  const deployment = parseObjects(readFileSync(join(MANIFESTS, example, "app.yaml"), "utf8"))[0] as V1Deployment;
  const template = deployment.spec!.template;
  return { apiVersion: "v1", kind: "Pod", metadata: { ...template.metadata, name, namespace }, spec: template.spec! };
}

/** A sidecar's settings as `tailcar sidecar` reads them from its environment in that pod. */
function sidecarSettings(pod: V1Pod, container: V1Container): ReturnType<typeof parseSidecarConfig> {
  assert.deepEqual(container.command, ["tailcar", "sidecar"]);
  return parseSidecarConfig(container.args ?? [], resolveEnv(pod, container, { cpus: 1, memoryBytes: 0 }));
}

describe("the shipped manifests on a real API server", { timeout: START_MS + 3 * 60_000 }, () => {
  let cluster: WebhookCluster | undefined;
  /** Why the monitoring objects cannot be checked here (no Go to fetch the CRDs; on CI that fails instead). */
  let noMonitoringCrds: string | undefined = "no Go to build kubectl, and no kubectl on PATH";

  before(async () => {
    const probe = parseObjects(applicationPodYAML())[0] as V1Pod;
    kubectl = await findKubectl();
    cluster = await startWebhookCluster({ withControllerManager: false, namespaces: { shop: { "tailcar.io/injection": "enabled" }, strict: RESTRICTED }, probe: { namespace: "shop", pod: probe } });
    if (kubectl) noMonitoringCrds = installMonitoringCrds();
  }, { timeout: START_MS });

  /**
   * The Prometheus Operator's CRDs for MONITORING_KINDS, from the pinned module (fetched once into
   * the user cache), installed for real and Established: the dry runs below then validate the
   * monitoring objects against the operator's own schemas, as a cluster running it would.
   */
  function installMonitoringCrds(): string | undefined {
    const started = Date.now();
    let dir: string;
    try {
      dir = prometheusOperatorCrds();
    } catch (e) {
      if (process.env.CI === "true") throw e;
      return `the Prometheus Operator's CRDs could not be fetched here: ${e instanceof Error ? e.message : String(e)}`;
    }
    // Server-side: the CRDs are too large for the last-applied annotation of a client-side apply.
    const run = spawnSync(kubectl, ["--kubeconfig", cluster!.cp.kubeconfigPath, "apply", "--server-side", "-f", dir], { encoding: "utf8", timeout: 60_000 });
    assert.equal(run.status, 0, `installing the CRDs of ${dir} failed:\n${run.stderr}`);
    const names = MONITORING_KINDS.map((k) => `crd/${k.toLowerCase()}s.monitoring.coreos.com`);
    const wait = spawnSync(kubectl, ["--kubeconfig", cluster!.cp.kubeconfigPath, "wait", "--for=condition=Established", "--timeout=60s", ...names], { encoding: "utf8", timeout: 90_000 });
    assert.equal(wait.status, 0, `the CRDs did not become Established:\n${wait.stderr}`);
    process.stderr.write(`manifests-server: the Prometheus Operator's CRDs (${MONITORING_KINDS.join(", ")}) installed and Established in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return undefined;
  }

  after(async () => {
    await cluster?.stop();
  });

  /** `kubectl apply --dry-run=server --validate=strict` of `objects`. */
  const dryRun = (objects: readonly KubernetesObject[]): SpawnSyncReturns<string> =>
    spawnSync(kubectl, ["--kubeconfig", cluster!.cp.kubeconfigPath, "apply", "--dry-run=server", "--validate=strict", "-f", "-"], {
      input: objects.map((o) => stringify(o)).join("---\n"),
      encoding: "utf8",
      timeout: 60_000,
    });

  /** `kubectl apply --dry-run=server --validate=strict` of `objects`: every one is accepted, but those of NEEDS_CRDS. */
  async function acceptsAll(objects: KubernetesObject[], certManager: boolean): Promise<void> {
    const skipped = objects.filter((o) => NEEDS_CRDS.has(`${o.apiVersion} ${o.kind}`));
    if (certManager) assert.equal(skipped.length, 2, "the Certificate and its Issuer are the only objects left out");
    else assert.deepEqual(skipped, []);
    // A dry run creates nothing, so the objects in a new namespace need that namespace for real
    // (manifests/monitoring has none of its own: it goes on top of an install).
    const shipped = objects.filter((o) => o.kind === "Namespace");
    const named = new Set(objects.flatMap((o) => o.metadata?.namespace ?? []).filter((n) => !shipped.some((ns) => ns.metadata!.name === n)));
    for (const ns of [...shipped, ...[...named].map((name) => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } }))]) {
      await cluster!.client.create(ns).catch((e: unknown) => {
        if (!String(e).includes("AlreadyExists")) throw e;
      });
    }
    // The webhook under test is registered as "tailcar" (with a url): applied over it, the
    // shipped configuration would be a patch of that one, not the create a user's install is.
    const rest = objects
      .filter((o) => !skipped.includes(o))
      .map((o) => (o.kind === "MutatingWebhookConfiguration" ? { ...o, metadata: { ...o.metadata, name: `${o.metadata!.name}-as-shipped` } } : o));
    const run = dryRun(rest);
    assert.equal(run.status, 0, `kubectl apply failed:\n${run.stderr}`);
    // One line an object: "deployment.apps/tailcar-webhook created (server dry run)".
    const accepted = run.stdout.split("\n").filter((l) => l.endsWith(" (server dry run)"));
    for (const o of rest) {
      const line = new RegExp(`^${o.kind!.toLowerCase()}(\\.[a-z0-9.-]+)?/${o.metadata!.name} (created|configured|unchanged) `);
      assert.ok(accepted.some((l) => line.test(l)), `${o.kind} ${o.metadata!.name} is not in kubectl's answer:\n${run.stdout}`);
    }
    assert.equal(accepted.length, rest.length, run.stdout);
  }

  for (const dir of ["", "overlays/cert-manager", "overlays/apiserver-only", "monitoring", ...EXAMPLES]) {
    test(`manifests/${dir}: kubectl apply --dry-run=server --validate=strict accepts every object`, async (t) => {
      if (!kubectl) return t.skip("no Go to build kubectl, and no kubectl on PATH");
      if (dir === "monitoring" && noMonitoringCrds !== undefined) return t.skip(noMonitoringCrds);
      await acceptsAll(kustomize(dir), dir === "overlays/cert-manager");
    });
  }

  // The dry runs above prove something only if the CRDs' schemas are in force: one wrong field in
  // each monitoring object must be refused, by name.
  test("a ServiceMonitor, PodMonitor or PrometheusRule with a field its CRD does not have, or a value its schema refuses, fails the dry run naming the field", (t) => {
    if (noMonitoringCrds !== undefined) return t.skip(noMonitoringCrds);
    const shipped = kustomize("monitoring");
    type Loose = Record<string, any>;
    const broken = (kind: string, breakIt: (spec: Loose) => void): KubernetesObject => {
      const copy = structuredClone(shipped.find((o) => o.kind === kind)) as Loose;
      breakIt(copy["spec"]);
      return copy as KubernetesObject;
    };
    const cases = [
      [broken("ServiceMonitor", (s) => (s["endpoints"][0].tlsConfig.serverNme = "tailcar-webhook.tailcar-system.svc")), /unknown field "spec\.endpoints\[0\]\.tlsConfig\.serverNme"/],
      [broken("PodMonitor", (s) => (s["podMetricsEndpoints"][0].interval = "30 seconds")), /spec\.podMetricsEndpoints\[0\]\.interval: Invalid value: "30 seconds"/],
      [broken("PrometheusRule", (s) => (s["groups"][0].rules[0].for = "ten minutes")), /spec\.groups\[0\]\.rules\[0\]\.for: Invalid value: "ten minutes"/],
    ] as const;
    for (const [object, message] of cases) {
      const run = dryRun([object]);
      assert.notEqual(run.status, 0, `${object.kind} accepted:\n${run.stdout}`);
      assert.match(run.stderr, message);
    }
  });

  for (const mode of ["self-bootstrap", "cert-manager"]) {
    test(`the Helm chart with tls.mode ${mode} and monitoring.enabled: kubectl apply --dry-run=server --validate=strict accepts every object it renders`, async (t) => {
      const tools = await chartTools();
      if (typeof tools === "string") return t.skip(tools);
      if (noMonitoringCrds !== undefined) return t.skip(noMonitoringCrds);
      const objects = renderChart(tools, { tls: { mode }, namespace: { create: true }, networkPolicy: { from: [{ ipBlock: { cidr: "192.0.2.0/24" } }] }, monitoring: { enabled: true } });
      assert.ok(objects.some((o) => o.kind === "Deployment") && objects.some((o) => o.kind === "NetworkPolicy"));
      for (const kind of MONITORING_KINDS) assert.ok(objects.some((o) => o.kind === kind), `monitoring.enabled renders a ${kind}`);
      await acceptsAll(objects, mode === "cert-manager");
    });
  }

  const injected = [
    { example: EXAMPLES[0], sidecars: { "error-log": "/var/log/shop/error.log", "access-log": "/var/log/shop/access.log" }, settings: { format: "json", multiline: "java", sink: "stdout" } },
    { example: EXAMPLES[1], sidecars: { "error-log": "/var/log/orders/error.log", "audit-log": "/var/log/orders/audit.log" }, settings: { format: "raw", sink: "loki", endpoint: "http://loki.logging.svc:3100" } },
    { example: EXAMPLES[2], sidecars: { "error-log": "/var/log/payments/error.log", "access-log": "/var/log/payments/access.log" }, settings: { format: "raw", sink: "stdout" } },
  ] as const;
  for (const { example, sidecars, settings } of injected) {
    test(`${example}: its pods are injected with the sidecars its README describes and admitted under Pod Security restricted`, async () => {
      const created = await cluster!.client.create(examplePod(example, "strict", example.split("/")[1]!));
      const natives = (created.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always");
      assert.deepEqual(natives.map((c) => c.name), Object.keys(sidecars));
      for (const c of natives) {
        const parsed = sidecarSettings(created, c);
        assert.deepEqual(parsed.files, [sidecars[c.name as keyof typeof sidecars]]);
        for (const [key, value] of Object.entries(settings)) assert.equal(parsed[key as keyof typeof parsed], value, `${c.name}: ${key}`);
      }
      assert.deepEqual((JSON.parse(created.metadata?.annotations?.["tailcar.io/status"] ?? "{}") as { containers?: string[] }).containers, Object.keys(sidecars));
    });
  }

  // RBAC as the API server evaluates it: each install's roles and bindings applied for real, then
  // `kubectl auth can-i` as the webhook's ServiceAccount. cert-manager's install first: applying the
  // default install afterwards only adds objects.
  const RBAC_KINDS = new Set(["Namespace", "ServiceAccount", "Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"]);
  const WEBHOOK_SA = "system:serviceaccount:tailcar-system:tailcar-webhook";
  const canI = (...args: string[]): boolean => {
    const run = spawnSync(kubectl, ["--kubeconfig", cluster!.cp.kubeconfigPath, "auth", "can-i", "--as", WEBHOOK_SA, ...args], { encoding: "utf8", timeout: 30_000 });
    assert.ok(run.stdout.trim() === "yes" || run.stdout.trim() === "no", `kubectl auth can-i ${args.join(" ")}: ${run.stdout}${run.stderr}`);
    return run.stdout.trim() === "yes";
  };
  const applyRbac = (dir: string): void => {
    const objects = kustomize(dir).filter((o) => RBAC_KINDS.has(o.kind!));
    const run = spawnSync(kubectl, ["--kubeconfig", cluster!.cp.kubeconfigPath, "apply", "-f", "-"], { input: objects.map((o) => stringify(o)).join("---\n"), encoding: "utf8", timeout: 60_000 });
    assert.equal(run.status, 0, run.stderr);
  };
  const rbacCases = [
    { dir: "overlays/cert-manager", secretsWrite: false, configPatch: false },
    { dir: "", secretsWrite: true, configPatch: true },
  ] as const;
  for (const { dir, secretsWrite, configPatch } of rbacCases) {
    test(`manifests/${dir}: as its ServiceAccount, the webhook may ${secretsWrite ? "" : "not "}write Secrets and ${configPatch ? "" : "not "}patch its webhook configuration; it may list pods and namespaces and create Events`, (t) => {
      if (!kubectl) return t.skip("no Go to build kubectl, and no kubectl on PATH");
      applyRbac(dir);
      assert.equal(canI("create", "secrets", "-n", "tailcar-system"), secretsWrite);
      assert.equal(canI("update", "secrets/tailcar-webhook-tls", "-n", "tailcar-system"), secretsWrite);
      assert.equal(canI("patch", "mutatingwebhookconfigurations.admissionregistration.k8s.io/tailcar"), configPatch);
      // Never more than its own: another configuration, Secrets elsewhere, deleting.
      assert.equal(canI("patch", "mutatingwebhookconfigurations.admissionregistration.k8s.io/other"), false);
      assert.equal(canI("create", "secrets", "-n", "default"), false);
      assert.equal(canI("delete", "secrets/tailcar-webhook-tls", "-n", "tailcar-system"), false);
      assert.equal(canI("list", "pods", "--all-namespaces"), true);
      assert.equal(canI("list", "namespaces"), true);
      assert.equal(canI("create", "events", "-n", "shop"), true);
    });
  }

  test("the namespace does enforce restricted: the docs' application pod, which may run as root, is refused there", async () => {
    const pod = parseObjects(applicationPodYAML())[0] as V1Pod;
    await assert.rejects(cluster!.client.create(pod, { namespace: "strict" }), /403 Forbidden: .*violates PodSecurity "restricted:latest"/);
  });
});

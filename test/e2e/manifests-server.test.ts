// The shipped manifests as a real API server takes them: each install and the example, built by
// kustomize, and the Helm chart rendered for each TLS mode, pass `kubectl apply --dry-run=server
// --validate=strict` (every field known to the API, every value valid); and the examples' pods, injected by `tailcar webhook`, are admitted in a
// namespace that enforces Pod Security `restricted`, with the sidecars their READMEs describe.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
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

  before(async () => {
    const probe = parseObjects(applicationPodYAML())[0] as V1Pod;
    kubectl = await findKubectl();
    cluster = await startWebhookCluster({ withControllerManager: false, namespaces: { shop: { "tailcar.io/injection": "enabled" }, strict: RESTRICTED }, probe: { namespace: "shop", pod: probe } });
  }, { timeout: START_MS });

  after(async () => {
    await cluster?.stop();
  });

  /** `kubectl apply --dry-run=server --validate=strict` of `objects`: every one is accepted, but those of NEEDS_CRDS. */
  async function acceptsAll(objects: KubernetesObject[], certManager: boolean): Promise<void> {
    const skipped = objects.filter((o) => NEEDS_CRDS.has(`${o.apiVersion} ${o.kind}`));
    if (certManager) assert.equal(skipped.length, 2, "the Certificate and its Issuer are the only objects left out");
    else assert.deepEqual(skipped, []);
    // A dry run creates nothing, so the objects in a new namespace need that namespace for real.
    for (const ns of objects.filter((o) => o.kind === "Namespace")) {
      await cluster!.client.create(ns).catch((e: unknown) => {
        if (!String(e).includes("AlreadyExists")) throw e;
      });
    }
    // The webhook under test is registered as "tailcar" (with a url): applied over it, the
    // shipped configuration would be a patch of that one, not the create a user's install is.
    const rest = objects
      .filter((o) => !skipped.includes(o))
      .map((o) => (o.kind === "MutatingWebhookConfiguration" ? { ...o, metadata: { ...o.metadata, name: `${o.metadata!.name}-as-shipped` } } : o));
    const run = spawnSync(kubectl, ["--kubeconfig", cluster!.cp.kubeconfigPath, "apply", "--dry-run=server", "--validate=strict", "-f", "-"], {
      input: rest.map((o) => stringify(o)).join("---\n"),
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(run.status, 0, `kubectl apply failed:\n${run.stderr}`);
    // One line an object: "deployment.apps/tailcar-webhook created (server dry run)".
    const accepted = run.stdout.split("\n").filter((l) => l.endsWith(" (server dry run)"));
    for (const o of rest) {
      const line = new RegExp(`^${o.kind!.toLowerCase()}(\\.[a-z0-9.-]+)?/${o.metadata!.name} (created|configured|unchanged) `);
      assert.ok(accepted.some((l) => line.test(l)), `${o.kind} ${o.metadata!.name} is not in kubectl's answer:\n${run.stdout}`);
    }
    assert.equal(accepted.length, rest.length, run.stdout);
  }

  for (const dir of ["", "overlays/cert-manager", "overlays/apiserver-only", ...EXAMPLES]) {
    test(`manifests/${dir}: kubectl apply --dry-run=server --validate=strict accepts every object`, async (t) => {
      if (!kubectl) return t.skip("no Go to build kubectl, and no kubectl on PATH");
      await acceptsAll(kustomize(dir), dir === "overlays/cert-manager");
    });
  }

  for (const mode of ["self-bootstrap", "cert-manager"]) {
    test(`the Helm chart with tls.mode ${mode}: kubectl apply --dry-run=server --validate=strict accepts every object it renders`, async (t) => {
      const tools = await chartTools();
      if (typeof tools === "string") return t.skip(tools);
      const objects = renderChart(tools, { tls: { mode }, namespace: { create: true }, networkPolicy: { from: [{ ipBlock: { cidr: "192.0.2.0/24" } }] } });
      assert.ok(objects.some((o) => o.kind === "Deployment") && objects.some((o) => o.kind === "NetworkPolicy"));
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

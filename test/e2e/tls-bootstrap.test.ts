// Self-bootstrap through the real API: the configuration is registered with no caBundle, the webhook
// creates its Secret, patches the caBundle itself, and from then on the API server trusts it. The
// webhook runs as its ServiceAccount with exactly the RBAC we ship (manifests/base and the
// self-bootstrap overlay), so a missing permission fails here, not in a user's cluster.
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { clientFor, freePorts, issueClientCert, parseObjects, pollUntil, registerMutatingWebhook, startControlPlane, type ControlPlane, type RegisteredWebhook, type TestClient } from "../../localcluster/harness/index.ts";
import { kubeconfigYAML } from "../../localcluster/harness/kubeconfig.ts";
import { applicationPodYAML, metricValue, REPO_ROOT, shippedWebhookConfiguration, startWebhook, type WebhookProcess } from "../../localcluster/webhook-process.ts";

const START_MS = 10 * 60_000;
const NAMESPACE = "tailcar-system";
const SECRET = "tailcar-webhook-tls";

const application = (name: string): V1Pod => {
  const pod = parseObjects(applicationPodYAML())[0] as V1Pod;
  pod.metadata = { ...pod.metadata, name };
  return pod;
};

const decode = (b64: string | undefined): string => Buffer.from(b64 ?? "", "base64").toString("utf8");

describe("self-bootstrap: the webhook creates its Secret and patches its own caBundle through the API", { timeout: START_MS + 3 * 60_000 }, () => {
  let cp: ControlPlane | undefined;
  let client: TestClient;
  let webhook: WebhookProcess | undefined;
  let registered: RegisteredWebhook | undefined;
  let args: string[] = [];
  let port = 0;
  let dir: string | undefined;

  before(async () => {
    cp = await startControlPlane({ withControllerManager: false });
    client = clientFor(cp);
    // The namespace, ServiceAccount and RBAC as shipped: the base's, and the self-bootstrap overlay's.
    for (const file of ["base/namespace.yaml", "base/serviceaccount.yaml", "base/rbac.yaml", "overlays/self-bootstrap/rbac.yaml"]) {
      await client.createAll(readFileSync(join(REPO_ROOT, "manifests", file), "utf8"));
    }
    // A client certificate whose user is the ServiceAccount: RBAC's ServiceAccount subjects match it.
    const identity = await issueClientCert(cp.ca, `system:serviceaccount:${NAMESPACE}:tailcar-webhook`, ["system:serviceaccounts", `system:serviceaccounts:${NAMESPACE}`]);
    dir = mkdtempSync(join(tmpdir(), "tailcar-e2e-sa-"));
    const kubeconfig = join(dir, "webhook.kubeconfig");
    writeFileSync(kubeconfig, kubeconfigYAML({ server: cp.apiURL, caPEM: cp.caPEM, user: "tailcar-webhook", client: identity }), { mode: 0o600 });
    await client.createNamespace("boot", { "tailcar.io/injection": "enabled" });
    // Registered first, with an empty caBundle: nothing can call the webhook until it patches it.
    [port = 0] = await freePorts(1);
    registered = await registerMutatingWebhook(client, shippedWebhookConfiguration(), `https://127.0.0.1:${port}`, undefined);
    args = ["--self-bootstrap", "--kubeconfig", kubeconfig, "--cert-ip", "127.0.0.1", "--namespace", NAMESPACE, "--secret", SECRET, "--webhook-config", "tailcar"];
  }, { timeout: START_MS });

  after(async () => {
    await registered?.unregister().catch(() => {});
    await webhook?.cleanup();
    await cp?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test("registered with an empty caBundle, the webhook fills it in and pods get injected", async () => {
    const empty = await client.admission.readMutatingWebhookConfiguration({ name: "tailcar" });
    for (const w of empty.webhooks ?? []) assert.equal(w.clientConfig.caBundle, undefined, `${w.name} starts with a caBundle`);
    // Nothing can call the webhook yet: this pod is admitted untouched, and reported below.
    assert.ok(isUnreachable(await client.create(application("before"), { namespace: "boot" })), "a pod was injected before the webhook ran");

    webhook = await startWebhook(args, { port, waitReady: false });
    const url = `https://127.0.0.1:${port}/mutate`;
    await webhook.waitForLog("self-bootstrap done", (l) => l.msg === "self-bootstrap done; ready", 60_000);
    assert.equal((await webhook.get("/readyz")).status, 200);

    const secret = await client.core.readNamespacedSecret({ namespace: NAMESPACE, name: SECRET });
    assert.equal(secret.type, "kubernetes.io/tls");
    const ca = decode(secret.data?.["ca.crt"]);
    const serving = new X509Certificate(decode(secret.data?.["tls.crt"]));
    assert.ok(serving.checkIP("127.0.0.1"), "the serving certificate has no IP SAN 127.0.0.1");
    assert.ok(serving.verify(new X509Certificate(ca).publicKey), "the serving certificate is not signed by ca.crt");

    const patched = await client.admission.readMutatingWebhookConfiguration({ name: "tailcar" });
    assert.equal(patched.webhooks?.length, 2);
    for (const w of patched.webhooks ?? []) {
      assert.ok(decode(w.clientConfig.caBundle).includes(ca.trim()), `${w.name}: caBundle does not hold the Secret's CA`);
      assert.equal(w.clientConfig.url, url, `${w.name}: only the clientConfig changed`);
    }

    // The configuration reaches the admission chain asynchronously: probe, bounded.
    await pollUntil("the API server to call the bootstrapped webhook", async () => (isInjected(await client.create(application("probe"), { namespace: "boot", dryRun: true })) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 250,
    });
    const pod = await client.create(application("application"), { namespace: "boot" });
    assert.deepEqual((pod.spec?.initContainers ?? []).map((c) => c.name), ["error-log", "access-log"]);
  });

  test("with the shipped RBAC, the pod admitted before the webhook ran is reported: Event and gauge", async () => {
    const scan = await webhook!.waitForLog("the missed-pod scan", (l) => l.msg === "missed-pod scan done" || l.msg === "missed-pod scan failed; will retry at the next scan");
    assert.equal(scan.msg, "missed-pod scan done", `scan failed: ${JSON.stringify(scan)}`);
    assert.equal(metricValue((await webhook!.get("/metrics")).body, "tailcar_webhook_missed_pods"), 1);
    const events = await client.core.listNamespacedEvent({ namespace: "boot", fieldSelector: "involvedObject.name=before,reason=TailcarNotInjected" });
    assert.equal(events.items.length, 1);
  });

  test("restarted, the webhook reuses the certificate in the Secret and keeps serving", async () => {
    const before = await client.core.readNamespacedSecret({ namespace: NAMESPACE, name: SECRET });
    assert.equal(await webhook!.stop(), 0);
    await webhook!.cleanup();
    webhook = await startWebhook(args, { port, readyTimeoutMs: 60_000 });
    await webhook.waitForLog("reuse of the stored certificate", (l) => l.msg === "reusing the certificate stored in the Secret");
    const after = await client.core.readNamespacedSecret({ namespace: NAMESPACE, name: SECRET });
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion, "the Secret was rewritten");
    const pod = await client.create(application("after-restart"), { namespace: "boot" });
    assert.ok(isInjected(pod));
  });
});

function isInjected(pod: V1Pod): boolean {
  return pod.metadata?.annotations?.["tailcar.io/status"] !== undefined;
}

function isUnreachable(pod: V1Pod): boolean {
  return !isInjected(pod);
}

// The harness against the real thing: etcd, kube-apiserver and kube-controller-manager built from the
// pinned Go modules (first run builds them, with progress), driven through the API.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import { after, before, describe, test } from "node:test";
import type { V1MutatingWebhookConfiguration, V1Pod } from "@kubernetes/client-node";
import {
  clientFor,
  httpGet,
  isAlive,
  issueServingCert,
  parseObjects,
  pointWebhookAt,
  registerMutatingWebhook,
  startControlPlane,
  type ControlPlane,
  type TestClient,
} from "../../localcluster/harness/index.ts";

const BUILD_AND_START_MS = 60 * 60_000;

const DEPLOYMENT = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: nginx }]
`;

const JOB = `
apiVersion: batch/v1
kind: Job
metadata: { name: once }
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{ name: once, image: busybox, command: ["sh", "-c", "echo done"] }]
`;

const WEBHOOK_CONFIGURATION = `
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: { name: harness-probe }
webhooks:
  - name: probe.harness.test
    admissionReviewVersions: ["v1"]
    sideEffects: None
    failurePolicy: Fail
    clientConfig:
      service: { namespace: somewhere, name: something, path: /mutate }
    namespaceSelector: { matchLabels: { harness-webhook: enabled } }
    rules: [{ operations: ["CREATE"], apiGroups: [""], apiVersions: ["v1"], resources: ["pods"] }]
`;

const annotatedPod = (name: string): V1Pod => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name, annotations: { "harness.test/add": "yes" } },
  spec: { containers: [{ name: "app", image: "busybox" }] },
});

/** A minimal real webhook: adds a container to pods annotated harness.test/add, counts its calls. */
async function startTinyWebhook(cp: ControlPlane): Promise<{ server: Server; url: string; calls: () => number }> {
  const tls = await issueServingCert(cp.ca, { ips: ["127.0.0.1"] });
  let calls = 0;
  const server = createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      calls++;
      const review = JSON.parse(body) as { request: { uid: string; object: V1Pod } };
      const wanted = review.request.object.metadata?.annotations?.["harness.test/add"] === "yes" && new URL(req.url ?? "/", "https://x").pathname === "/mutate";
      const patch = [{ op: "add", path: "/spec/containers/-", value: { name: "added", image: "busybox" } }];
      const response = { uid: review.request.uid, allowed: true, ...(wanted && { patchType: "JSONPatch", patch: Buffer.from(JSON.stringify(patch)).toString("base64") }) };
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("webhook has no port");
  return { server, url: `https://127.0.0.1:${address.port}`, calls: () => calls };
}

test("pointWebhookAt replaces only clientConfig, keeping the service path when the URL has none", () => {
  const config = pointWebhookAt(WEBHOOK_CONFIGURATION, "https://127.0.0.1:8443", "PEM");
  const webhook = config.webhooks?.[0];
  assert.deepEqual(webhook?.clientConfig, { url: "https://127.0.0.1:8443/mutate", caBundle: Buffer.from("PEM").toString("base64") });
  assert.deepEqual(webhook?.namespaceSelector, { matchLabels: { "harness-webhook": "enabled" } });
  assert.equal(pointWebhookAt(WEBHOOK_CONFIGURATION, "https://127.0.0.1:1/other", "x").webhooks?.[0]?.clientConfig.url, "https://127.0.0.1:1/other");
});

test("pointWebhookAt fits the MutatingWebhookConfiguration we ship", () => {
  const shipped = readFileSync(new URL("../../manifests/base/mutatingwebhookconfiguration.yaml", import.meta.url), "utf8");
  const original = parseObjects(shipped)[0] as V1MutatingWebhookConfiguration;
  const config = pointWebhookAt(shipped, "https://127.0.0.1:9443", undefined);
  assert.ok((config.webhooks?.length ?? 0) > 0);
  config.webhooks?.forEach((webhook, i) => {
    assert.deepEqual(webhook.clientConfig, { url: "https://127.0.0.1:9443/mutate" });
    const before = original.webhooks?.[i];
    assert.deepEqual({ ...webhook, clientConfig: undefined }, { ...before, clientConfig: undefined });
  });
});

describe("a real control plane on 127.0.0.1", () => {
  let cp: ControlPlane | undefined;
  let client: TestClient;
  const plane = (): ControlPlane => {
    if (!cp) throw new Error("control plane did not start (see the before hook's error)");
    return cp;
  };

  before(async () => {
    cp = await startControlPlane({ withControllerManager: true });
    client = clientFor(cp);
  }, { timeout: BUILD_AND_START_MS });

  after(async () => {
    await cp?.stop();
  });

  test("serves the pinned Kubernetes version and is ready", async () => {
    const tls = { ca: plane().caPEM, cert: plane().adminCert.cert, key: plane().adminCert.key };
    const version = JSON.parse((await httpGet(`${plane().apiURL}/version`, tls)).body) as { gitVersion: string };
    assert.equal(version.gitVersion, plane().binaries.kubernetesVersion);
    assert.equal((await httpGet(`${plane().apiURL}/readyz`, tls)).status, 200);
  });

  test("creates a labelled namespace and a Pod in it", async () => {
    await client.createNamespace("plain", { team: "a" });
    const ns = await client.core.readNamespace({ name: "plain" });
    assert.equal(ns.metadata?.labels?.team, "a");
    await client.create<V1Pod>(annotatedPod("solo"), { namespace: "plain" });
    const pod = await client.getPod("plain", "solo");
    // The ServiceAccount admission plugin is on, as in a real cluster: pods get the projected token volume.
    assert.ok(pod.spec?.volumes?.some((v) => v.name.startsWith("kube-api-access-")), "no kube-api-access volume");
    assert.deepEqual((await client.listPods("plain")).map((p) => p.metadata?.name), ["solo"]);
  });

  test("a Deployment's ReplicaSet creates its pods (the controller-manager runs)", async () => {
    await client.createNamespace("apps");
    await client.create(DEPLOYMENT, { namespace: "apps" });
    const pods = await client.waitForPodsOf("Deployment", "apps", "web", { timeoutMs: 30_000 });
    assert.equal(pods.length, 2);
    for (const pod of pods) assert.equal(pod.metadata?.ownerReferences?.[0]?.kind, "ReplicaSet");
  });

  test("a Job's pod appears", async () => {
    await client.createNamespace("jobs");
    await client.create(JOB, { namespace: "jobs" });
    const [pod] = await client.waitForPodsOf("Job", "jobs", "once", { timeoutMs: 30_000 });
    assert.equal(pod?.metadata?.ownerReferences?.[0]?.kind, "Job");
  });

  test("a webhook registered by URL is called by the apiserver, only where its selector matches", async () => {
    const webhook = await startTinyWebhook(plane());
    try {
      await client.createNamespace("hooked", { "harness-webhook": "enabled" });
      await client.createNamespace("unhooked");
      const registered = await registerMutatingWebhook(client, WEBHOOK_CONFIGURATION, webhook.url, plane().caPEM, {
        namespace: "hooked",
        pod: annotatedPod("probe"),
      });
      assert.ok(webhook.calls() > 0);
      const hooked = await client.create<V1Pod>(annotatedPod("p"), { namespace: "hooked" });
      assert.deepEqual(hooked.spec?.containers.map((c) => c.name), ["app", "added"]);
      const unhooked = await client.create<V1Pod>(annotatedPod("p"), { namespace: "unhooked" });
      assert.deepEqual(unhooked.spec?.containers.map((c) => c.name), ["app"]);
      // The probe was a dry run: nothing was stored.
      assert.deepEqual((await client.listPods("hooked")).map((p) => p.metadata?.name), ["p"]);
      await registered.unregister();
    } finally {
      webhook.server.closeAllConnections();
      await new Promise((resolve) => webhook.server.close(resolve));
    }
  });

  test("stop() ends every process and removes the temporary folder", async () => {
    const { processes, dir } = plane();
    assert.equal(processes.length, 3);
    for (const p of processes) assert.ok(isAlive(p.pid), `${p.name} is not running before stop()`);
    await plane().stop();
    for (const p of processes) assert.equal(isAlive(p.pid), false, `${p.name} (pid ${p.pid}) still running`);
    assert.equal(existsSync(dir), false);
    cp = undefined;
  });
});

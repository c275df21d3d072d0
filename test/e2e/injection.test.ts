// Injection through a real kube-apiserver: the webhook runs as `tailcar webhook` on 127.0.0.1 with
// mounted certificate files, registered with the MutatingWebhookConfiguration we ship (only its
// clientConfig changed), and every pod goes through the API as kubectl would send it.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { apiErrorCode, parseObjects, type TestClient } from "../../localcluster/harness/index.ts";
import { startWebhookCluster, type WebhookCluster } from "./webhook-cluster.ts";
import { applicationPodYAML, createPodRaw, metricValue } from "../../localcluster/webhook-process.ts";

const START_MS = 10 * 60_000;
const SIDECARS = ["error-log", "access-log"];

const application = (name = "application", labels: Record<string, string> = {}): V1Pod => {
  const pod = parseObjects(applicationPodYAML())[0] as V1Pod;
  pod.metadata = { ...pod.metadata, name, labels: { ...pod.metadata?.labels, ...labels } };
  return pod;
};

const names = (containers: readonly V1Container[] | undefined): string[] => (containers ?? []).map((c) => c.name);

/** Sidecars as they come back: native ones are init containers with restartPolicy Always. */
function nativeSidecars(pod: V1Pod): string[] {
  return (pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === "Always").map((c) => c.name);
}

function assertInjected(pod: V1Pod, sidecars = SIDECARS): void {
  assert.deepEqual(nativeSidecars(pod), sidecars, `pod ${pod.metadata?.name}: native sidecars`);
  assert.deepEqual(names(pod.spec?.containers), ["app"]);
  const status = pod.metadata?.annotations?.["tailcar.io/status"];
  assert.ok(status, `pod ${pod.metadata?.name} has no tailcar.io/status`);
  assert.deepEqual((JSON.parse(status) as { containers: string[] }).containers, sidecars);
}

function assertUntouched(pod: V1Pod): void {
  assert.deepEqual(names(pod.spec?.initContainers), [], `pod ${pod.metadata?.name} got init containers`);
  assert.deepEqual(names(pod.spec?.containers), ["app"]);
  assert.equal(pod.metadata?.annotations?.["tailcar.io/status"], undefined);
  assert.ok(!(pod.spec?.volumes ?? []).some((v) => v.name.startsWith("tailcar")), "a tailcar volume was added");
}

describe("injection through the API server, webhook with mounted certificate files", { timeout: START_MS + 5 * 60_000 }, () => {
  let cluster: WebhookCluster | undefined;
  let client: TestClient;

  before(async () => {
    cluster = await startWebhookCluster({
      withControllerManager: true,
      namespaces: { "enabled-ns": { "tailcar.io/injection": "enabled" }, "plain-ns": {}, "disabled-ns": { "tailcar.io/injection": "disabled" } },
      probe: { namespace: "enabled-ns", pod: application("probe") },
    });
    client = cluster.client;
  }, { timeout: START_MS });

  after(async () => {
    await cluster?.stop();
  });

  test("the docs' application pod in a namespace labelled tailcar.io/injection=enabled comes back with the error-log and access-log sidecars", async () => {
    const created = await client.create(application(), { namespace: "enabled-ns" });
    assertInjected(created);
    const stored = await client.getPod("enabled-ns", "application");
    assertInjected(stored);
    const errorLog = stored.spec?.initContainers?.[0];
    assert.deepEqual(errorLog?.command, ["tailcar", "sidecar"]);
    assert.equal(errorLog?.env?.find((e) => e.name === "TAILCAR_FILES")?.value, "/var/log/error.log");
    assert.ok(stored.spec?.volumes?.some((v) => v.name === "tailcar-checkpoints"));
  });

  test("in an unlabelled namespace the pod is untouched", async () => {
    assertUntouched(await client.create(application(), { namespace: "plain-ns" }));
  });

  test('pod label tailcar.io/inject: "true" opts in, in an unlabelled namespace', async () => {
    assertInjected(await client.create(application("opted-in", { "tailcar.io/inject": "true" }), { namespace: "plain-ns" }));
  });

  test('pod label tailcar.io/inject: "false" opts out, in a labelled namespace', async () => {
    assertUntouched(await client.create(application("opted-out", { "tailcar.io/inject": "false" }), { namespace: "enabled-ns" }));
  });

  test("a namespace labelled tailcar.io/injection=disabled injects nothing, even into pods labelled true", async () => {
    assertUntouched(await client.create(application("in-disabled"), { namespace: "disabled-ns" }));
    assertUntouched(await client.create(application("in-disabled-opted-in", { "tailcar.io/inject": "true" }), { namespace: "disabled-ns" }));
  });

  test("a Deployment's pods, created by the real controller-manager, are injected", async () => {
    const template = application("unused");
    await client.create(
      {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "web" },
        spec: {
          replicas: 2,
          selector: { matchLabels: { app: "web" } },
          template: { metadata: { labels: { app: "web" }, annotations: template.metadata?.annotations }, spec: template.spec },
        },
      },
      { namespace: "enabled-ns" },
    );
    const pods = await client.waitForPodsOf("Deployment", "enabled-ns", "web", { count: 2, timeoutMs: 60_000 });
    assert.equal(pods.length, 2);
    for (const pod of pods) {
      assert.match(pod.metadata?.name ?? "", /^web-/);
      assertInjected(pod);
    }
  });

  test("a Job's pod is injected with native sidecars (init containers, restartPolicy Always), so the Job can complete", async () => {
    await client.create(
      {
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: "once" },
        spec: {
          template: {
            metadata: { annotations: { "tailcar.io/files": "/var/log/job.log" } },
            spec: {
              restartPolicy: "Never",
              containers: [{ name: "app", image: "busybox", command: ["sh", "-c", "echo done >> /var/log/job.log"], volumeMounts: [{ name: "logs", mountPath: "/var/log" }] }],
              volumes: [{ name: "logs", emptyDir: {} }],
            },
          },
        },
      },
      { namespace: "enabled-ns" },
    );
    const [pod] = await client.waitForPodsOf("Job", "enabled-ns", "once", { timeoutMs: 60_000 });
    assert.ok(pod);
    assert.deepEqual(nativeSidecars(pod), ["job-log"]);
    assert.deepEqual(names(pod.spec?.containers), ["app"]);
  });

  test("a dryRun=All create (kubectl --dry-run=server) comes back mutated and nothing is stored", async () => {
    const before = metricValue((await cluster!.webhook.get("/metrics")).body, "tailcar_webhook_sidecars_injected_total");
    const returned = await client.create(application("dry"), { namespace: "enabled-ns", dryRun: true });
    assertInjected(returned);
    await assert.rejects(client.getPod("enabled-ns", "dry"), (e: unknown) => apiErrorCode(e) === 404 || /404/.test(String(e)));
    const line = await cluster!.webhook.waitForLog("the dry-run admission", (l) => l.msg === "admission" && l["name"] === "dry");
    assert.equal(line["dryRun"], true);
    // Dry-run requests are not counted as injected sidecars.
    assert.equal(metricValue((await cluster!.webhook.get("/metrics")).body, "tailcar_webhook_sidecars_injected_total"), before);
  });

  test("an already injected pod is not injected again", async () => {
    const injected = await client.getPod("enabled-ns", "application");
    const again: V1Pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "application-again", annotations: injected.metadata?.annotations },
      spec: { ...injected.spec!, nodeName: undefined },
    };
    // The ServiceAccount admission plugin adds its volume again under the same name; drop ours.
    again.spec!.volumes = again.spec!.volumes?.filter((v) => !v.name.startsWith("kube-api-access-"));
    for (const c of [...(again.spec!.containers ?? []), ...(again.spec!.initContainers ?? [])]) {
      c.volumeMounts = c.volumeMounts?.filter((m) => !m.name.startsWith("kube-api-access-"));
    }
    const created = await client.create(again, { namespace: "enabled-ns" });
    assertInjected(created);
    assert.equal(created.spec?.initContainers?.length, 2);
    const line = await cluster!.webhook.waitForLog("the admission of application-again", (l) => l.msg === "admission" && l["name"] === "application-again");
    assert.equal(line["skipped"], "already-injected");
  });

  test("a bad annotation admits the pod and the API server returns the webhook's warning to the client", async () => {
    const pod = application("sloppy");
    pod.metadata!.annotations = { ...pod.metadata?.annotations, "tailcar.io/memory-limit": "64MB" };
    const result = await createPodRaw(cluster!.cp.apiURL, { ca: cluster!.cp.caPEM, cert: cluster!.cp.adminCert.cert, key: cluster!.cp.adminCert.key }, "enabled-ns", pod);
    assert.equal(result.status, 201, result.body);
    assert.ok(
      result.warnings.some((w) => w.includes("tailcar.io/memory-limit") && w.includes("64MB")),
      `warnings: ${JSON.stringify(result.warnings)}`,
    );
    assertInjected(await client.getPod("enabled-ns", "sloppy"));
  });

  test("a forwarding pod naming an auth Secret and a CA ConfigMap that do not exist is stored by the API server, the optional volumes mounted read-only into its sidecars only", async () => {
    const pod = application("forwarder");
    pod.metadata!.annotations = {
      ...pod.metadata?.annotations,
      "tailcar.io/mode": "forward",
      "tailcar.io/forward-sink": "loki",
      "tailcar.io/forward-endpoint": "https://loki-gateway.logging.svc",
      "tailcar.io/forward-auth-secret": "logs-backend",
      "tailcar.io/forward-ca": "configmap/logs-ca/bundle.pem",
      "tailcar.io/forward-client-cert-secret": "logs-client",
    };
    const created = await client.create(pod, { namespace: "enabled-ns" });
    assertInjected(created);
    // Plain objects: the client's classes are not deep-equal to literals.
    const volumes = Object.fromEntries((created.spec?.volumes ?? []).map((v) => [v.name, JSON.parse(JSON.stringify(v)) as typeof v]));
    assert.deepEqual(volumes["tailcar-forward-auth"]?.secret, { secretName: "logs-backend", optional: true, defaultMode: 420 });
    assert.deepEqual(volumes["tailcar-forward-ca"]?.configMap, { name: "logs-ca", items: [{ key: "bundle.pem", path: "ca.crt" }], optional: true, defaultMode: 420 });
    assert.equal(volumes["tailcar-forward-client-cert"]?.secret?.secretName, "logs-client");
    for (const sidecar of created.spec?.initContainers ?? []) {
      const env = Object.fromEntries((sidecar.env ?? []).map((e) => [e.name, e.value]));
      assert.equal(env["TAILCAR_AUTH_DIR"], "/etc/tailcar/forward-auth", sidecar.name);
      assert.equal(env["TAILCAR_CA_FILE"], "/etc/tailcar/forward-ca/ca.crt", sidecar.name);
      assert.ok((sidecar.volumeMounts ?? []).some((m) => m.name === "tailcar-forward-auth" && m.readOnly === true && m.subPath === undefined), sidecar.name);
    }
    for (const app of created.spec?.containers ?? []) assert.ok(!(app.volumeMounts ?? []).some((m) => m.name.startsWith("tailcar-forward")), `${app.name} mounts a forwarding volume`);
    const status = JSON.parse(created.metadata!.annotations!["tailcar.io/status"]!) as { volumes: string[] };
    assert.ok(["tailcar-forward-auth", "tailcar-forward-ca", "tailcar-forward-client-cert"].every((v) => status.volumes.includes(v)), JSON.stringify(status));
  });

  // The API server's ServiceAccount admission runs before mutating webhooks: the webhook sees the
  // projected token volume and refuses the token by its volume; with automount off it refuses the path.
  // Both checks are on the webhook's own log line, whose warnings are not shortened.
  for (const automount of [true, false]) {
    test(`the service account token as a log file is refused (automountServiceAccountToken ${automount}): named in a warning, no sidecar tails it`, async () => {
      const name = `token-${automount ? "mounted" : "unmounted"}`;
      const pod = application(name);
      const files = pod.metadata!.annotations!["tailcar.io/files"]!;
      pod.metadata!.annotations = { ...pod.metadata?.annotations, "tailcar.io/files": `${files}, /var/run/secrets/kubernetes.io/serviceaccount/token` };
      pod.spec!.automountServiceAccountToken = automount;
      const created = await client.create(pod, { namespace: "enabled-ns" });
      assertInjected(created);
      // No sidecar tails the token. (With automount on, the API server's ServiceAccount admission,
      // run again after the webhook changed the pod, mounts the token into the sidecars too, as
      // into every container: that mount is not the webhook's and no sidecar reads it.)
      for (const c of created.spec?.initContainers ?? []) {
        const files = c.env?.find((e) => e.name === "TAILCAR_FILES")?.value ?? "";
        assert.ok(!files.includes("/var/run/secrets"), `${c.name} tails ${files}`);
      }
      const line = await cluster!.webhook.waitForLog(`the admission of ${name}`, (l) => l.msg === "admission" && l["name"] === name);
      const warnings = line["warnings"] as string[];
      const expected = automount
        ? /"\/var\/run\/secrets\/kubernetes.io\/serviceaccount\/token" for annotation "tailcar.io\/files": in the projected volume "kube-api-access-[a-z0-9]+"/
        : /"\/var\/run\/secrets\/kubernetes.io\/serviceaccount\/token" for annotation "tailcar.io\/files": no volume is mounted over it and an emptyDir would hide the service account token's directory/;
      assert.ok(warnings.some((w) => expected.test(w)), JSON.stringify(warnings));
    });
  }
});

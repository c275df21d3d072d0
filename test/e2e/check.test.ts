// `tailcar check` (the built CLI) against a real kube-apiserver + etcd: the real webhook registered
// by URL as the e2e tests do, and a second configuration that calls a Service, whose Deployment,
// Service, EndpointSlice and Secret are objects the test writes (no node runs pods: the status a
// controller would write is written here). Each ✓ and each ✗ the command knows is produced by the
// cluster's state, not by a stub.
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { DiscoveryV1Api, type V1MutatingWebhookConfiguration, type V1Pod } from "@kubernetes/client-node";
import { clientFor, pollUntil, registerMutatingWebhook, startControlPlane, type ControlPlane, type RegisteredWebhook, type TestClient } from "../../localcluster/harness/index.ts";
import { shippedWebhookConfiguration, startWebhook, writeServingCertFiles, type WebhookProcess } from "../../localcluster/webhook-process.ts";
import { generateCertBundle, serviceDnsNames } from "../../webhook/certs.ts";
import { packageVersion } from "../../webhook/package-version.ts";
import { parseObjects } from "../../localcluster/harness/client.ts";
import { find, tailcarCheck, type Run } from "./tailcar-check.ts";

const START_MS = 10 * 60_000;
const APP_NS = "shop";
const CLEAN_NS = "clean";
const SVC_CONFIG = "tailcar-svc";
const SYSTEM_NS = "tailcar-system";

function statusOf(run: Run, id: string, group?: string): string {
  return find(run, id, group).map((c) => c.status).sort().at(0)!;
}

const pod = (name: string, annotations: Record<string, string>, spec: V1Pod["spec"], extra: Partial<NonNullable<V1Pod["metadata"]>> = {}): V1Pod =>
  ({ apiVersion: "v1", kind: "Pod", metadata: { name, annotations, ...extra }, spec });

const app = (name: string, runAsUser: number, mounts: { name: string; mountPath: string }[] = []) =>
  ({ name, image: "busybox", command: ["sleep", "3600"], securityContext: { runAsUser }, volumeMounts: mounts });

describe("tailcar check against a real API server", { timeout: START_MS + 5 * 60_000 }, () => {
  let cp: ControlPlane | undefined;
  let client: TestClient;
  let webhook: WebhookProcess | undefined;
  let registered: RegisteredWebhook | undefined;
  let certDir: string | undefined;
  let kubeconfig = "";

  before(async () => {
    cp = await startControlPlane({ withControllerManager: false });
    kubeconfig = cp.kubeconfigPath;
    client = clientFor(cp);
    await client.createNamespace(APP_NS, { "tailcar.io/injection": "enabled" });
    await client.createNamespace(CLEAN_NS, { "tailcar.io/injection": "enabled" });
    // The API server makes namespace default shortly after it starts; its ServiceAccount the
    // controller-manager would make, and a dry-run pod in default needs it.
    await pollUntil("namespace default", async () => (await client.core.readNamespace({ name: "default" }).catch(() => undefined)) && true, { timeoutMs: 30_000 });
    await client.core.createNamespacedServiceAccount({ namespace: "default", body: { metadata: { name: "default" } } });
    // Admitted before the webhook is registered: a Deployment's pod that missed injection.
    const deployment = await client.apps.createNamespacedDeployment({ namespace: APP_NS, body: {
      metadata: { name: "web" },
      spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [app("app", 1000)] } } },
    } });
    const rs = await client.apps.createNamespacedReplicaSet({ namespace: APP_NS, body: {
      metadata: { name: "web-5d8f", ownerReferences: [{ apiVersion: "apps/v1", kind: "Deployment", name: "web", uid: deployment.metadata!.uid!, controller: true }] },
      spec: { replicas: 1, selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: { containers: [app("app", 1000)] } } },
    } });
    await client.create(pod("web-5d8f-missed", { "tailcar.io/files": "/var/log/web/access.log" }, { containers: [app("app", 1000)] },
      { labels: { app: "web" }, ownerReferences: [{ apiVersion: "apps/v1", kind: "ReplicaSet", name: "web-5d8f", uid: rs.metadata!.uid!, controller: true }] }), { namespace: APP_NS });

    const certs = await writeServingCertFiles(cp.ca);
    certDir = certs.dir;
    webhook = await startWebhook([...certs.args, "--kubeconfig", kubeconfig]);
    const probe = pod("probe", { "tailcar.io/files": "/var/log/probe.log" }, { containers: [app("app", 1000)] });
    registered = await registerMutatingWebhook(client, shippedWebhookConfiguration(), webhook.url, cp.caPEM, { namespace: APP_NS, pod: probe });
  }, { timeout: START_MS });

  after(async () => {
    await registered?.unregister().catch(() => {});
    await webhook?.cleanup();
    await cp?.stop();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  test("the installation passes: configuration, failurePolicy Ignore, the certificate served at the URL against the caBundle, a dry-run pod answered with the webhook's version; the 7-day certificate warns; exit 0", async () => {
    const run = await tailcarCheck(kubeconfig, []);
    assert.equal(run.code, 0, run.stdout + run.stderr);
    for (const id of ["webhook-configuration", "failure-policy", "ca-bundle", "certificate-name", "dry-run-admission"]) assert.equal(statusOf(run, id), "ok", id);
    // The harness issues 7-day certificates: within the 30 days a certificate should have been renewed in, a warning.
    assert.equal(statusOf(run, "certificate-expiry"), "warn");
    assert.match(find(run, "certificate-expiry")[0]!.message, /expires in [67] days/);
    // Called at a URL: no Deployment or Service to look at, said with the neutral mark.
    assert.equal(statusOf(run, "webhook-deployment"), "skip");
    assert.match(find(run, "dry-run-admission")[0]!.message, new RegExp(`tailcar ${packageVersion().replaceAll(".", "\\.")}$`));
    assert.match(find(run, "certificate-name")[0]!.message, /127\.0\.0\.1/);
    const text = await tailcarCheck(kubeconfig, [], false);
    assert.match(text.stdout, /^installation$/m);
    assert.match(text.stdout, /^ {2}✓ MutatingWebhookConfiguration tailcar: 2 webhooks/m);
    assert.match(text.stdout, /^ {2}– webhook Deployment and Service not checked/m);
    assert.match(text.stdout, /no problems, 1 warning, /);
  });

  test("a namespace: its label passes, the Deployment's pod admitted before the webhook fails as missed injection and the fix restarts Deployment web; a pod with another version's sidecars fails with its own fix; exit 1", async () => {
    // Sidecars written by hand with another version in the status: the webhook leaves such a pod alone.
    await client.create(pod("old-sidecars", { "tailcar.io/files": "/var/log/old.log", "tailcar.io/status": JSON.stringify({ version: "0.0.1", containers: ["old-log"] }) },
      { containers: [app("app", 1000)] }), { namespace: APP_NS });
    const run = await tailcarCheck(kubeconfig, ["-n", APP_NS]);
    assert.equal(run.code, 1, run.stdout);
    const group = `namespace ${APP_NS}`;
    assert.equal(statusOf(run, "namespace-label", group), "ok");
    const [missed] = find(run, "missed-injection", group);
    assert.equal(missed!.status, "fail");
    assert.match(missed!.message, /^Deployment web: 1 pod \(web-5d8f-missed\)/);
    assert.equal(missed!.fix, `kubectl -n ${APP_NS} rollout restart deployment/web`);
    const [skew] = find(run, "sidecar-version", group);
    assert.equal(skew!.status, "fail");
    assert.match(skew!.message, new RegExp(`^bare pods: old-sidecars runs sidecars of tailcar 0\\.0\\.1; the webhook injects ${packageVersion().replaceAll(".", "\\.")}`));
    assert.match(skew!.fix!, /recreate pod old-sidecars/);
  });

  test("a namespace whose pods were injected by this webhook passes: no missed pod, all sidecars of the webhook's version; an unlabelled one warns with the label command", async () => {
    await client.create(pod("fresh", { "tailcar.io/files": "/var/log/app/app.log" }, { containers: [app("app", 1000, [{ name: "logs", mountPath: "/var/log/app" }])], volumes: [{ name: "logs", emptyDir: {} }] }), { namespace: CLEAN_NS });
    const run = await tailcarCheck(kubeconfig, ["-n", CLEAN_NS]);
    assert.equal(run.code, 0, run.stdout);
    for (const id of ["namespace-label", "missed-injection", "sidecar-version"]) assert.equal(statusOf(run, id, `namespace ${CLEAN_NS}`), "ok", id);
    assert.match(find(run, "sidecar-version")[0]!.message, /^1 injected pod/);
    const plain = await tailcarCheck(kubeconfig, ["-n", "default"]);
    const [label] = find(plain, "namespace-label", "namespace default");
    assert.equal(label!.status, "warn");
    assert.equal(label!.fix, "kubectl label namespace default tailcar.io/injection=enabled --overwrite");
  });

  test("a pod on its own volume, app and sidecar as one user: its file passes (sidecar, volume, access); state and metrics are skipped with why", async () => {
    await client.create(pod("readable", { "tailcar.io/files": "/var/log/app/app.log" }, { containers: [app("app", 1000, [{ name: "logs", mountPath: "/var/log/app" }])], volumes: [{ name: "logs", emptyDir: {} }] }), { namespace: APP_NS });
    const run = await tailcarCheck(kubeconfig, ["pod", "readable", "-n", APP_NS]);
    const group = `pod ${APP_NS}/readable`;
    for (const id of ["file-sidecar", "file-volume", "file-access"]) assert.equal(statusOf(run, id, group), "ok", id);
    assert.match(find(run, "file-access", group)[0]!.message, /runs as uid 1000, as app container app does/);
    assert.equal(statusOf(run, "sidecar-state", group), "skip");
    assert.match(find(run, "sidecar-metrics", group)[0]!.message, /TAILCAR_METRICS_PORT is not set/);
    assert.equal(statusOf(run, "sidecar-version", group), "ok");
    assert.equal(run.code, 0, run.stdout);
  });

  test("a pod whose second app container runs as another user than the sidecar fails the access check, and the emptyDir tailcar added warns that it hides the image's directory; exit 1", async () => {
    await client.create(pod("two-users", { "tailcar.io/files": "/var/log/shop/orders.log" }, { containers: [app("proxy", 1000), app("app", 2000)] }), { namespace: APP_NS });
    const run = await tailcarCheck(kubeconfig, ["pod", "two-users", "-n", APP_NS]);
    assert.equal(run.code, 1, run.stdout);
    const group = `pod ${APP_NS}/two-users`;
    const [access] = find(run, "file-access", group);
    assert.equal(access!.status, "fail");
    assert.match(access!.message, /app container app runs as uid 2000, the sidecar as uid 1000/);
    assert.match(access!.fix!, /fsGroup/);
    const [volume] = find(run, "file-volume", group);
    assert.equal(volume!.status, "warn");
    assert.match(volume!.message, /tailcar added at \/var\/log\/shop in proxy, app/);
  });

  test("a pod admitted without the webhook fails as not injected; a pod whose sidecar waits in CrashLoopBackOff fails its state; metrics behind a port the API server may not proxy are skipped with why", async () => {
    const missed = await tailcarCheck(kubeconfig, ["pod", "web-5d8f-missed", "-n", APP_NS]);
    assert.equal(missed.code, 1);
    const [injected] = find(missed, "injected");
    assert.equal(injected!.status, "fail");
    assert.equal(injected!.fix, `kubectl -n ${APP_NS} rollout restart deployment/web`);

    // Injected by hand (the webhook leaves a pod with a status alone), with a metrics port in the sidecar's environment.
    const version = packageVersion();
    await client.create(pod("crashing", { "tailcar.io/files": "/var/log/app/app.log", "tailcar.io/status": JSON.stringify({ version, containers: ["app-log"] }) }, {
      containers: [app("app", 1000, [{ name: "logs", mountPath: "/var/log/app" }])],
      initContainers: [{ name: "app-log", image: "tailcar-sidecar", restartPolicy: "Always", securityContext: { runAsUser: 1000 },
        env: [{ name: "TAILCAR_FILES", value: "/var/log/app/app.log" }, { name: "TAILCAR_METRICS_PORT", value: "9102" }],
        volumeMounts: [{ name: "logs", mountPath: "/var/log/app", readOnly: true }] }],
      volumes: [{ name: "logs", emptyDir: {} }],
    }), { namespace: APP_NS });
    const stored = await client.getPod(APP_NS, "crashing");
    // As a kubelet would report it: running with an IP (loopback, which the API server's pod proxy refuses), the sidecar crash-looping.
    stored.status = { phase: "Running", podIP: "127.0.0.1", podIPs: [{ ip: "127.0.0.1" }],
      initContainerStatuses: [{ name: "app-log", image: "tailcar-sidecar", imageID: "", ready: false, restartCount: 4, started: false, state: { waiting: { reason: "CrashLoopBackOff", message: "back-off 40s" } }, lastState: { terminated: { exitCode: 1, reason: "Error" } } }] };
    await client.core.replaceNamespacedPodStatus({ namespace: APP_NS, name: "crashing", body: stored });
    const run = await tailcarCheck(kubeconfig, ["pod", "crashing", "-n", APP_NS]);
    const [state] = find(run, "sidecar-state");
    assert.equal(state!.status, "fail");
    assert.match(state!.message, /is waiting: CrashLoopBackOff/);
    const [metrics] = find(run, "sidecar-metrics");
    assert.equal(metrics!.status, "skip");
    assert.match(metrics!.message, /GET \/metrics on port 9102 through the API server's pod proxy failed/);
    assert.equal(statusOf(run, "file-access"), "ok");
    assert.equal(run.code, 1);
  });

  describe("a configuration that calls a Service: Deployment, Service endpoints and the certificate in the Secret", () => {
    let caBundle = "";
    const service = `tailcar-webhook.${SYSTEM_NS}.svc`;

    before(async () => {
      await client.createNamespace(SYSTEM_NS, { "tailcar.io/injection": "disabled" });
      const bundle = await generateCertBundle({ dnsNames: serviceDnsNames("tailcar-webhook", SYSTEM_NS) });
      caBundle = Buffer.from(bundle.caCert).toString("base64");
      await client.core.createNamespacedSecret({ namespace: SYSTEM_NS, body: { metadata: { name: "tailcar-webhook-tls" }, type: "kubernetes.io/tls",
        data: { "tls.crt": Buffer.from(bundle.cert).toString("base64"), "tls.key": Buffer.from(bundle.key).toString("base64"), "ca.crt": caBundle } } });
      const labels = { "app.kubernetes.io/name": "tailcar", "app.kubernetes.io/component": "webhook" };
      await client.apps.createNamespacedDeployment({ namespace: SYSTEM_NS, body: { metadata: { name: "tailcar-webhook" },
        spec: { replicas: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: "webhook", image: "tailcar-webhook", env: [{ name: "TAILCAR_WEBHOOK_SELF_BOOTSTRAP", value: "true" }] }] } } } } });
      await client.core.createNamespacedService({ namespace: SYSTEM_NS, body: { metadata: { name: "tailcar-webhook" }, spec: { selector: labels, ports: [{ name: "https", port: 443, targetPort: 8443 }] } } });
      // Selects no namespace, so the API server never calls it: only its objects are checked.
      const config = parseObjects(shippedWebhookConfiguration())[0] as V1MutatingWebhookConfiguration;
      config.metadata = { name: SVC_CONFIG };
      for (const w of config.webhooks!) {
        w.clientConfig.caBundle = caBundle;
        w.namespaceSelector = { matchLabels: { "tailcar-check-e2e": "never" } };
      }
      await client.admission.createMutatingWebhookConfiguration({ body: config });
    });

    const setReady = async (ready: number): Promise<void> => {
      const d = await client.apps.readNamespacedDeployment({ namespace: SYSTEM_NS, name: "tailcar-webhook" });
      d.status = { replicas: 2, readyReplicas: ready, updatedReplicas: 2, availableReplicas: ready, observedGeneration: d.metadata?.generation };
      await client.apps.replaceNamespacedDeploymentStatus({ namespace: SYSTEM_NS, name: "tailcar-webhook", body: d });
    };

    test("no ready replica and no endpoints fail, each with a fix naming the namespace; the caBundle verifies the Secret's certificate for " + service, async () => {
      const run = await tailcarCheck(kubeconfig, ["--webhook-config", SVC_CONFIG]);
      assert.equal(run.code, 1, run.stdout);
      const [deployment] = find(run, "webhook-deployment");
      assert.equal(deployment!.status, "fail");
      assert.match(deployment!.message, /0 of 2 replicas ready/);
      assert.match(deployment!.fix!, /kubectl -n tailcar-system describe deployment\/tailcar-webhook/);
      assert.equal(statusOf(run, "webhook-service"), "fail");
      for (const id of ["ca-bundle", "certificate-name", "certificate-expiry"]) assert.equal(statusOf(run, id), "ok", id);
      assert.match(find(run, "ca-bundle")[0]!.message, /Secret tailcar-system\/tailcar-webhook-tls/);
    });

    test("two ready replicas and a ready endpoint pass", async () => {
      await setReady(2);
      await client.kubeConfig.makeApiClient(DiscoveryV1Api).createNamespacedEndpointSlice({ namespace: SYSTEM_NS, body: { metadata: { name: "tailcar-webhook-manual", labels: { "kubernetes.io/service-name": "tailcar-webhook" } },
        addressType: "IPv4", endpoints: [{ addresses: ["10.0.7.7"], conditions: { ready: true } }], ports: [{ name: "https", port: 8443, protocol: "TCP" }] } });
      const run = await tailcarCheck(kubeconfig, ["--webhook-config", SVC_CONFIG]);
      assert.equal(statusOf(run, "webhook-deployment"), "ok");
      const [endpoints] = find(run, "webhook-service");
      assert.equal(endpoints!.status, "ok");
      assert.match(endpoints!.message, /1 ready endpoint \(10\.0\.7\.7\)/);
      assert.equal(run.code, 0, run.stdout);
    });

    test("a caBundle of another CA fails (the fix says the self-bootstrapping webhook re-patches it on restart); failurePolicy Fail warns", async () => {
      const other = await generateCertBundle({ dnsNames: ["elsewhere"] });
      const config = await client.admission.readMutatingWebhookConfiguration({ name: SVC_CONFIG });
      for (const w of config.webhooks!) {
        w.clientConfig.caBundle = Buffer.from(other.caCert).toString("base64");
        w.failurePolicy = "Fail";
      }
      await client.admission.replaceMutatingWebhookConfiguration({ name: SVC_CONFIG, body: config });
      const run = await tailcarCheck(kubeconfig, ["--webhook-config", SVC_CONFIG]);
      assert.equal(run.code, 1, run.stdout);
      const [bundle] = find(run, "ca-bundle");
      assert.equal(bundle!.status, "fail");
      assert.match(bundle!.fix!, /rollout restart deployment\/tailcar-webhook/);
      assert.equal(statusOf(run, "failure-policy"), "warn");
    });

    test("a serving certificate 10 days from expiry warns with the days left", async () => {
      const soon = await generateCertBundle({ dnsNames: serviceDnsNames("tailcar-webhook", SYSTEM_NS), validDays: 10 });
      const secret = await client.core.readNamespacedSecret({ namespace: SYSTEM_NS, name: "tailcar-webhook-tls" });
      secret.data = { ...secret.data, "tls.crt": Buffer.from(soon.cert).toString("base64") };
      await client.core.replaceNamespacedSecret({ namespace: SYSTEM_NS, name: "tailcar-webhook-tls", body: secret });
      const run = await tailcarCheck(kubeconfig, ["--webhook-config", SVC_CONFIG]);
      const [expiry] = find(run, "certificate-expiry");
      assert.equal(expiry!.status, "warn");
      assert.match(expiry!.message, /expires in (9|10) days/);
    });
  });

  test("a configuration that does not exist fails with the install command; exit 1", async () => {
    const run = await tailcarCheck(kubeconfig, ["--webhook-config", "nope"]);
    assert.equal(run.code, 1);
    const [config] = find(run, "webhook-configuration");
    assert.equal(config!.status, "fail");
    assert.match(config!.fix!, /kubectl apply -k manifests\/overlays\/self-bootstrap/);
  });
});

// Proof 6, the shipped install on a real node: `kubectl apply -k manifests/overlays/self-bootstrap`
// (kubectl built from the cluster's own pins, the overlay unchanged) with the image built from
// Dockerfile.webhook on the node under the name the kustomization gives it. The webhook bootstraps
// its TLS, patches its caBundle and becomes Ready; the API server calls it at its pods' addresses
// (--enable-aggregator-routing, no kube-proxy) and the pods reach the API server through the
// `kubernetes` Service (localcluster/netns.ts); the docs' pod created afterwards is injected. Then
// every webhook container is killed through the runtime: pods created meanwhile are admitted
// without sidecars (failurePolicy: Ignore), and once the webhook is back its missed-pod report
// names them (an Event on each, a log line). Needs root and the packages .ci/run installs.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { after, before, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { findOrBuildKubectl } from "../../localcluster/harness/build.ts";
import { httpGet, parseObjects, pollUntil } from "../../localcluster/harness/index.ts";
import { projectRoot } from "../../localcluster/harness/pins.ts";
import { importImage, imageNames, tagImage } from "../../localcluster/containerd-images.ts";
import { findOrBuildWebhookImage, SIDECAR_IMAGE, type BuiltImage } from "../../localcluster/images.ts";
import { leftoversOf, startRealNode, type RealNode } from "../../localcluster/node.ts";
import { skipReasonOrFail } from "../../localcluster/prerequisites.ts";
import { applicationPodYAML, metricValue } from "../../localcluster/webhook-process.ts";
import { MISSED_PODS_METRIC, MISSED_REASON } from "../../webhook/missed-pods.ts";
import { DEFAULT_INJECT_OPTIONS } from "../webhook/default-options.ts";
import { fileLines } from "./sidecar-log-lines.ts";

const run = promisify(execFile);
const skip = skipReasonOrFail();
const SYSTEM = "tailcar-system";
const DEMO = "demo";
const OVERLAY = join(projectRoot(), "manifests", "overlays", "self-bootstrap");
const WEBHOOK_SELECTOR = "app.kubernetes.io/name=tailcar,app.kubernetes.io/component=webhook";
/** Waiting reasons that never end well on a node without a registry: fail at once, with the reason. */
const HOPELESS = new Set(["ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull", "CrashLoopBackOff", "CreateContainerError", "CreateContainerConfigError", "InvalidImageName"]);

let node: RealNode | undefined;
let kubectl = "";
let webhookImage: BuiltImage | undefined;
/** Set by the first test: the outage test needs an installed, serving webhook. */
let installed = false;
/** The overlay went in: after() takes it out again. */
let applied = false;

const docsPod = (name: string): V1Pod => {
  const pod = parseObjects(applicationPodYAML())[0] as V1Pod;
  return { ...pod, metadata: { ...pod.metadata, name } };
};
const containerNames = (pod: V1Pod): string[] => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
const injected = (pod: V1Pod): boolean => containerNames(pod).includes("error-log") && pod.metadata?.annotations?.["tailcar.io/status"] !== undefined;

before(async () => {
  if (skip) return;
  kubectl = await findOrBuildKubectl();
  webhookImage = await findOrBuildWebhookImage();
  node = await startRealNode();
  try {
    const importMs = await importImage(node.containerdSocket, webhookImage.tarball);
    // The shipped webhook injects its default sidecar image; the node has that image under the
    // tests' name (localcluster/images.ts): give it the default name too.
    await tagImage(node.containerdSocket, SIDECAR_IMAGE, DEFAULT_INJECT_OPTIONS.image);
    process.stderr.write(`shipped install: ${webhookImage.name} imported in ${importMs} ms (${webhookImage.source})\n`);
    await node.client.createNamespace(DEMO, { "tailcar.io/injection": "enabled" });
  } catch (e) {
    await node.stop();
    node = undefined;
    throw e;
  }
});

after(async () => {
  if (node && applied) {
    // Uninstall as a user would; the Deployment would otherwise recreate the pods node.stop() deletes.
    const started = Date.now();
    await run(kubectl, ["--kubeconfig", node.cp.kubeconfigPath, "delete", "-k", OVERLAY, "--ignore-not-found", "--wait=true", "--timeout=90s"]).then(
      () => process.stderr.write(`shipped install: kubectl delete -k (namespace and pods gone) in ${Date.now() - started} ms\n`),
      (e: unknown) => process.stderr.write(`shipped install: kubectl delete -k failed: ${e instanceof Error ? e.message : String(e)}\n`),
    );
  }
  if (node) {
    await node.stop();
    assert.deepEqual(leftoversOf(node), [], "the node left nothing behind");
  }
});

/** The webhook's pods, failing at once when one of them cannot start (no image, crash loop). */
async function webhookPods(): Promise<V1Pod[]> {
  assert.ok(node);
  const pods = (await node.client.core.listNamespacedPod({ namespace: SYSTEM, labelSelector: WEBHOOK_SELECTOR })).items;
  for (const pod of pods) {
    for (const s of pod.status?.containerStatuses ?? []) {
      const reason = s.state?.waiting?.reason;
      if (reason !== undefined && HOPELESS.has(reason)) {
        const log = await node.client.core.readNamespacedPodLog({ name: pod.metadata?.name ?? "", namespace: SYSTEM, container: s.name, previous: (s.restartCount ?? 0) > 0 }).catch(() => "(no log)");
        throw new HopelessError(`webhook pod ${pod.metadata?.name}: ${reason}: ${s.state?.waiting?.message ?? ""}\nits log:\n${log.split("\n").slice(-20).join("\n")}`);
      }
    }
  }
  return pods;
}

class HopelessError extends Error {}

/** What the webhook logged on its way up, in ms after `since` (its JSON lines carry `time`), for the numbers' breakdown. */
function milestones(log: string, since: number): string {
  const steps = ["generating a CA and serving certificate", "reusing the certificate stored in the Secret", "caBundle patched", "listening", "self-bootstrap done; ready", "pod admitted without the webhook: no sidecars injected", "missed-pod scan done"];
  const seen = new Map<string, number>();
  for (const line of log.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      const { time, msg } = JSON.parse(line) as { time?: string; msg?: string };
      if (msg !== undefined && time !== undefined && steps.includes(msg) && !seen.has(msg)) seen.set(msg, Date.parse(time) - since);
    } catch {
      // Not one of its JSON lines.
    }
  }
  return [...seen].map(([msg, ms]) => `${msg} +${ms} ms`).join(", ");
}

async function webhookMilestones(since: number): Promise<string> {
  assert.ok(node);
  const lines: string[] = [];
  for (const pod of await webhookPods()) {
    const name = pod.metadata?.name ?? "";
    const log = await node.client.core.readNamespacedPodLog({ name, namespace: SYSTEM, container: "webhook" });
    const started = pod.status?.containerStatuses?.find((s) => s.name === "webhook")?.state?.running?.startedAt;
    lines.push(`  ${name}: container started +${started === undefined ? "?" : new Date(started).getTime() - since} ms (1 s resolution), ${milestones(log, since)}`);
  }
  return lines.join("\n");
}

const isReady = (pod: V1Pod): boolean => pod.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

/** Polls `check` (bounded); a HopelessError stops the wait at once instead of being retried. */
async function waitFor<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  let hopeless: string | undefined;
  return pollUntil(
    what,
    async () => {
      try {
        return await check();
      } catch (e) {
        if (e instanceof HopelessError) hopeless = e.message;
        throw e;
      }
    },
    { timeoutMs, intervalMs: 250, abortIf: () => hopeless },
  );
}

/** Dry-run creates the docs' pod until it comes back with sidecars: the API server reaches the webhook. */
const untilInjecting = (timeoutMs: number): Promise<V1Pod> =>
  waitFor("a dry-run pod in namespace demo to come back injected", timeoutMs, async () => {
    await webhookPods();
    assert.ok(node);
    const pod = await node.client.create<V1Pod>(docsPod("probe"), { namespace: DEMO, dryRun: true });
    return injected(pod) ? pod : undefined;
  });

test("kubectl apply -k manifests/overlays/self-bootstrap: the webhook image starts, bootstraps its TLS, patches its caBundle, becomes Ready, and injects the docs' pod created afterwards", { skip }, async () => {
  assert.ok(node && webhookImage);
  const { client } = node;
  assert.ok((await imageNames(node.containerdSocket)).includes(webhookImage.name), `${webhookImage.name} is on the node`);
  const applyStarted = Date.now();
  applied = true;
  const apply = await run(kubectl, ["--kubeconfig", node.cp.kubeconfigPath, "apply", "-k", OVERLAY]);
  const applyMs = Date.now() - applyStarted;
  assert.match(apply.stdout, /deployment\.apps\/tailcar-webhook created/);
  assert.match(apply.stdout, /mutatingwebhookconfiguration\.admissionregistration\.k8s\.io\/tailcar created/);

  let firstReadyMs = 0;
  const pods = await waitFor("every tailcar-webhook pod to be Ready", 180_000, async () => {
    const all = await webhookPods();
    if (firstReadyMs === 0 && all.some(isReady)) firstReadyMs = Date.now() - applyStarted;
    return all.length > 0 && all.every(isReady) ? all : undefined;
  });
  const allReadyMs = Date.now() - applyStarted;
  const deployment = await client.apps.readNamespacedDeployment({ name: "tailcar-webhook", namespace: SYSTEM });
  assert.equal(pods.length, deployment.spec?.replicas, "as many Ready pods as the Deployment asks for");
  for (const pod of pods) {
    const c = pod.status?.containerStatuses?.find((s) => s.name === "webhook");
    assert.ok(c?.image?.endsWith(webhookImage.name.split("/").pop() ?? ""), `the webhook runs the image built from Dockerfile.webhook: ${c?.image}`);
  }

  // Its TLS: the Secret it created, and the caBundle it patched into every webhook of the configuration.
  const secret = await client.core.readNamespacedSecret({ name: "tailcar-webhook-tls", namespace: SYSTEM });
  const ca = Buffer.from(secret.data?.["ca.crt"] ?? "", "base64").toString().trim();
  assert.match(ca, /^-----BEGIN CERTIFICATE-----/);
  const config = await client.admission.readMutatingWebhookConfiguration({ name: "tailcar" });
  assert.ok((config.webhooks ?? []).length > 0);
  for (const w of config.webhooks ?? []) {
    const bundle = Buffer.from(w.clientConfig.caBundle ?? "", "base64").toString();
    assert.ok(bundle.includes(ca), `webhook ${w.name}: the caBundle holds the CA of the Secret the webhook created`);
    assert.deepEqual(w.clientConfig.service?.name, "tailcar-webhook", "still the shipped Service, not a URL");
  }

  const probe = await untilInjecting(60_000);
  const firstInjectedMs = Date.now() - applyStarted;
  assert.ok(injected(probe));

  const created = Date.now();
  const pod = await client.create<V1Pod>(docsPod("application"), { namespace: DEMO });
  assert.ok(injected(pod), `the docs' pod is injected: ${containerNames(pod).join(", ")}`);
  const lines = await waitFor("a line in kubectl logs application -c error-log", 120_000, async () => {
    const all = fileLines(await client.core.readNamespacedPodLog({ name: "application", namespace: DEMO, container: "error-log" }));
    return all.length > 0 ? all : undefined;
  });
  assert.match(lines[0] ?? "", /^0: .+ error$/);
  const firstLineMs = Date.now() - created;
  installed = true;
  process.stderr.write(
    `shipped install: kubectl apply ${applyMs} ms; apply to first webhook pod Ready ${firstReadyMs} ms, all ${pods.length} Ready ${allReadyMs} ms; ` +
      `apply to first injected pod ${firstInjectedMs} ms; docs' pod create to first error-log line ${firstLineMs} ms\n` +
      `${await webhookMilestones(applyStarted)}\n`,
  );
});

test("with every webhook container killed through the runtime, pods created meanwhile are admitted without sidecars, and the missed-pod report names them when the webhook is back (Event, log line, gauge)", { skip }, async (t) => {
  if (!installed) return t.skip("needs the install of the previous test");
  assert.ok(node);
  const { client } = node;
  const socket = node.containerdSocket;
  const before = await webhookPods();
  const restarts = (pod: V1Pod) => pod.status?.containerStatuses?.find((s) => s.name === "webhook")?.restartCount ?? 0;
  const restartsBefore = new Map(before.map((p) => [p.metadata?.name ?? "", restarts(p)]));
  const ids = before.map((p) => (p.status?.containerStatuses?.find((s) => s.name === "webhook")?.containerID ?? "").replace(/^containerd:\/\//, ""));
  assert.ok(ids.every((id) => id !== ""), "every webhook container has an id");

  const killed = Date.now();
  // As an OOM kill or a crash would: SIGKILL from the runtime, kubelet restarts them.
  for (const id of ids) await run("ctr", ["--address", socket, "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id]);
  await pollUntil(
    "the killed webhook processes to be gone",
    async () => {
      const { stdout } = await run("ctr", ["--address", socket, "-n", "k8s.io", "tasks", "ls"]);
      const running = stdout.split("\n").filter((l) => ids.some((id) => l.startsWith(id)) && /\bRUNNING\b/.test(l));
      return running.length === 0 ? true : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 50 },
  );

  const missed = ["during-outage-1", "during-outage-2"];
  for (const name of missed) {
    const pod = await client.create<V1Pod>(docsPod(name), { namespace: DEMO });
    assert.equal(injected(pod), false, `${name} is admitted without sidecars while the webhook is down (failurePolicy: Ignore): ${containerNames(pod).join(", ")}`);
  }
  const createdDuringOutage = Date.now();

  // One loop for both, so each time is taken when it happens: the report may come before Ready.
  let runningMs = 0;
  let readyMs = 0;
  let reportedMs = 0;
  const events = await waitFor(`every webhook pod Ready again and a ${MISSED_REASON} Event on each pod created during the outage`, 120_000, async () => {
    const all = await webhookPods();
    const restarted = all.filter((p) => restarts(p) > (restartsBefore.get(p.metadata?.name ?? "") ?? 0));
    const startedAt = restarted.map((p) => p.status?.containerStatuses?.find((s) => s.name === "webhook")?.state?.running?.startedAt).filter((d) => d !== undefined);
    // kubelet's startedAt has a resolution of one second.
    if (runningMs === 0 && startedAt.length > 0) runningMs = Math.min(...startedAt.map((d) => new Date(d).getTime())) - killed;
    if (readyMs === 0 && restarted.some(isReady)) readyMs = Date.now() - killed;
    const list = (await client.core.listNamespacedEvent({ namespace: DEMO })).items.filter((e) => e.reason === MISSED_REASON);
    const named = new Set(list.map((e) => e.involvedObject.name));
    if (reportedMs === 0 && missed.every((n) => named.has(n))) reportedMs = Date.now() - killed;
    const back = all.length === before.length && restarted.length === all.length && all.every(isReady);
    return back && reportedMs > 0 ? list : undefined;
  });
  const backMs = Date.now() - killed;
  assert.equal(events.some((e) => e.involvedObject.name === "application"), false, "the pod injected before the outage is not reported");
  const logs = await Promise.all(
    (await webhookPods()).map((p) => client.core.readNamespacedPodLog({ name: p.metadata?.name ?? "", namespace: SYSTEM, container: "webhook" })),
  );
  for (const name of missed) {
    assert.ok(
      logs.some((log) => log.split("\n").some((l) => l.includes("pod admitted without the webhook") && l.includes(`"name":"${name}"`))),
      `a webhook log line names ${name}`,
    );
  }
  // The third part of the report, the gauge, read as Prometheus would, through the API server's pod
  // proxy (the pods' port is reachable only inside the node's network namespace).
  const tls = { ca: node.cp.caPEM, cert: node.cp.adminCert.cert, key: node.cp.adminCert.key };
  const gauges = await Promise.all(
    (await webhookPods()).map(async (p) => {
      const url = `${node!.cp.apiURL}/api/v1/namespaces/${SYSTEM}/pods/https:${p.metadata?.name ?? ""}:8443/proxy/metrics`;
      const answer = await httpGet(url, tls);
      assert.equal(answer.status, 200, `GET ${url}: ${answer.body.slice(0, 200)}`);
      return metricValue(answer.body, MISSED_PODS_METRIC);
    }),
  );
  assert.deepEqual(gauges, gauges.map(() => missed.length), `${MISSED_PODS_METRIC} on each webhook pod`);
  const probe = await untilInjecting(30_000);
  assert.ok(injected(probe), "pods created after it is back are injected again");
  process.stderr.write(
    `shipped install outage: from the kill: a restarted webhook container running ${runningMs} ms (kubelet's clock, 1 s resolution), ` +
      `first webhook pod Ready again ${readyMs} ms, ${MISSED_REASON} Events on both pods ${reportedMs} ms, all back ${backMs} ms; ` +
      `the pods were created ${createdDuringOutage - killed} ms after the kill\n${await webhookMilestones(killed)}\n`,
  );
});

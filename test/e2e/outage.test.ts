// A webhook outage: failurePolicy Ignore admits pods untouched while the webhook is down, and when
// it comes back it reports them (log line, Event on the pod, tailcar_webhook_missed_pods).
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import { findMissedPods, listInScope, wouldInject, type CoreLists } from "../../webhook/missed-pods.ts";
import { DEFAULT_INJECT_OPTIONS } from "../webhook/default-options.ts";
import { parseObjects, pollUntil, type TestClient } from "../../localcluster/harness/index.ts";
import { startWebhookCluster, type WebhookCluster } from "./webhook-cluster.ts";
import { applicationPodYAML, metricValue, startWebhook } from "../../localcluster/webhook-process.ts";

const START_MS = 10 * 60_000;

const application = (name: string): V1Pod => {
  const pod = parseObjects(applicationPodYAML())[0] as V1Pod;
  pod.metadata = { ...pod.metadata, name };
  return pod;
};

const isInjected = (pod: V1Pod): boolean => pod.metadata?.annotations?.["tailcar.io/status"] !== undefined;

describe("webhook outage: pods admitted untouched, then reported when the webhook is back", { timeout: START_MS + 3 * 60_000 }, () => {
  let cluster: WebhookCluster | undefined;
  let client: TestClient;

  before(async () => {
    // The cluster's webhook has API access (--kubeconfig), which turns --report-missed-pods on.
    cluster = await startWebhookCluster({
      withControllerManager: false,
      namespaces: { outage: { "tailcar.io/injection": "enabled" } },
      probe: { namespace: "outage", pod: application("probe") },
    });
    client = cluster.client;
  }, { timeout: START_MS });

  after(async () => {
    await cluster?.stop();
  });

  test("with nothing missed, the first scan reports 0", async () => {
    await cluster!.webhook.waitForLog("the first missed-pod scan", (l) => l.msg === "missed-pod scan done");
    assert.equal(metricValue((await cluster!.webhook.get("/metrics")).body, "tailcar_webhook_missed_pods"), 0);
    assert.ok(isInjected(await client.create(application("before-outage"), { namespace: "outage" })));
  });

  test("with the webhook stopped, failurePolicy: Ignore admits pods untouched", async () => {
    const port = cluster!.webhook.port;
    assert.equal(await cluster!.webhook.stop(), 0, "the webhook exits 0 on SIGTERM");
    await cluster!.webhook.cleanup();
    const started = Date.now();
    const pod = await client.create(application("during-outage"), { namespace: "outage" });
    const ms = Date.now() - started;
    assert.equal(isInjected(pod), false);
    assert.deepEqual((pod.spec?.initContainers ?? []).map((c) => c.name), []);
    // Connection refused is answered at once: the outage costs the client no timeout.
    assert.ok(ms < 5_000, `create took ${ms} ms`);

    cluster!.webhook = await startWebhook(cluster!.args, { port });
  });

  test("after the restart the missed pod gets a TailcarNotInjected Event, a log line, and the gauge shows 1", async () => {
    const warned = await cluster!.webhook.waitForLog("the missed pod's log line", (l) => l.msg === "pod admitted without the webhook: no sidecars injected");
    assert.equal(warned["name"], "during-outage");
    assert.equal(warned["namespace"], "outage");
    await cluster!.webhook.waitForLog("the missed-pod scan", (l) => l.msg === "missed-pod scan done");
    assert.equal(metricValue((await cluster!.webhook.get("/metrics")).body, "tailcar_webhook_missed_pods"), 1);

    const events: CoreV1Event[] = await pollUntil(
      "the TailcarNotInjected Event on outage/during-outage",
      async () => {
        const list = await client.core.listNamespacedEvent({ namespace: "outage", fieldSelector: "involvedObject.name=during-outage,reason=TailcarNotInjected" });
        return list.items.length > 0 ? list.items : undefined;
      },
      { timeoutMs: 10_000 },
    );
    assert.equal(events.length, 1);
    const event = events[0]!;
    assert.equal(event.type, "Warning");
    assert.equal(event.involvedObject.kind, "Pod");
    assert.match(event.message ?? "", /webhook was unavailable when pod during-outage was admitted/);
    assert.match(event.message ?? "", /recreate the pod/);

    // The pods injected before the outage are not reported, and new pods are injected again.
    const reported = cluster!.webhook.logLines().filter((l) => l.msg === "pod admitted without the webhook: no sidecars injected").map((l) => l["name"]);
    assert.deepEqual(reported, ["during-outage"]);
    await pollUntil("the restarted webhook to inject again", async () => (isInjected(await client.create(application("probe"), { namespace: "outage", dryRun: true })) ? true : undefined), {
      timeoutMs: 15_000,
    });
    assert.ok(isInjected(await client.create(application("after-outage"), { namespace: "outage" })));
  });

  test("the scan lists only the pods the selectors put in scope, a page at a time, and stops at its bound", async () => {
    await client.createNamespace("plain");
    await client.createNamespace("off", { "tailcar.io/injection": "disabled" });
    const labelled = (name: string, inject: string): V1Pod => {
      const pod = application(name);
      pod.metadata = { ...pod.metadata, labels: { ...pod.metadata?.labels, "tailcar.io/inject": inject } };
      return pod;
    };
    await client.create(application("unlabelled"), { namespace: "plain" });
    await client.create(labelled("opted-in", "true"), { namespace: "plain" });
    await client.create(labelled("opted-in", "true"), { namespace: "off" });
    await client.create(labelled("opted-out", "false"), { namespace: "outage" });
    // What the API server returned, call by call, through the same client the webhook uses.
    const calls: { what: string; limit: number; continued: boolean; names: string[] }[] = [];
    const record = <T extends { items: { metadata?: { namespace?: string; name?: string } }[] }>(what: string, q: { limit: number; _continue?: string }, r: T): T => {
      calls.push({ what, limit: q.limit, continued: q._continue !== undefined, names: r.items.map((i) => `${i.metadata?.namespace ?? ""}/${i.metadata?.name}`) });
      return r;
    };
    const core: CoreLists = {
      listNamespace: async (q) => record(`namespaces ${q.labelSelector}`, q, await client.core.listNamespace(q)),
      listNamespacedPod: async (q) => record(`pods in ${q.namespace} ${q.labelSelector}`, q, await client.core.listNamespacedPod(q)),
      listPodForAllNamespaces: async (q) => record(`pods ${q.labelSelector}`, q, await client.core.listPodForAllNamespaces(q)),
    };
    const excluded = DEFAULT_INJECT_OPTIONS.excludedNamespaces;
    const full = await listInScope(core, excluded, { pageSize: 2, maxListed: 1000 });
    assert.equal(full.complete, true);
    const listedPods = calls.filter((c) => c.what.startsWith("pods")).flatMap((c) => c.names).sort();
    // outage: every pod not opted out; elsewhere only opted-in pods (off/opted-in comes with the
    // cluster-wide list; findMissedPods drops it, its namespace being disabled).
    assert.deepEqual(listedPods, ["/after-outage", "/before-outage", "/during-outage", "off/opted-in", "plain/opted-in"].map((n) => (n.startsWith("/") ? `outage${n}` : n)).sort());
    assert.equal(full.podsListed, listedPods.length);
    assert.ok(calls.every((c) => c.limit <= 2), JSON.stringify(calls));
    assert.ok(calls.some((c) => c.continued), "no call followed a continue token");
    // Namespaces: those labelled enabled and those without the label, nothing else.
    assert.deepEqual([...new Set(calls.filter((c) => c.what.startsWith("namespaces")).map((c) => c.what))], ["namespaces tailcar.io/injection=enabled", "namespaces !tailcar.io/injection"]);
    assert.ok(!calls.flatMap((c) => c.names).includes("/off"), "the disabled namespace was listed");
    assert.deepEqual(findMissedPods(full.pods, full.namespaces, wouldInject(DEFAULT_INJECT_OPTIONS), excluded).map((p) => `${p.namespace}/${p.name}`), ["outage/during-outage"]);

    calls.length = 0;
    const bounded = await listInScope(core, excluded, { pageSize: 2, maxListed: 3 });
    assert.equal(bounded.complete, false);
    assert.ok(bounded.podsListed <= 3, `${bounded.podsListed} pods listed past a bound of 3`);
  });
});

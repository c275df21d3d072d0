// A webhook outage: failurePolicy Ignore admits pods untouched while the webhook is down, and when
// it comes back it reports them (log line, Event on the pod, tailcar_webhook_missed_pods).
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import {
  clientFor,
  parseObjects,
  pollUntil,
  registerMutatingWebhook,
  startControlPlane,
  type ControlPlane,
  type RegisteredWebhook,
  type TestClient,
} from "./harness/index.ts";
import { applicationPodYAML, metricValue, shippedWebhookConfiguration, startWebhook, writeServingCertFiles, type WebhookProcess } from "./webhook-process.ts";

const START_MS = 10 * 60_000;

const application = (name: string): V1Pod => {
  const pod = parseObjects(applicationPodYAML())[0] as V1Pod;
  pod.metadata = { ...pod.metadata, name };
  return pod;
};

const isInjected = (pod: V1Pod): boolean => pod.metadata?.annotations?.["tailcar.io/status"] !== undefined;

describe("webhook outage: pods admitted untouched, then reported when the webhook is back", { timeout: START_MS + 3 * 60_000 }, () => {
  let cp: ControlPlane | undefined;
  let client: TestClient;
  let webhook: WebhookProcess | undefined;
  let registered: RegisteredWebhook | undefined;
  let certDir: string | undefined;
  let args: string[] = [];

  before(async () => {
    cp = await startControlPlane({ withControllerManager: false });
    client = clientFor(cp);
    const certs = await writeServingCertFiles(cp.ca);
    certDir = certs.dir;
    // --kubeconfig gives the webhook API access, which turns --report-missed-pods on.
    args = [...certs.args, "--kubeconfig", cp.kubeconfigPath];
    webhook = await startWebhook(args);
    await client.createNamespace("outage", { "tailcar.io/injection": "enabled" });
    registered = await registerMutatingWebhook(client, shippedWebhookConfiguration(), webhook.url, cp.caPEM, { namespace: "outage", pod: application("probe") });
  }, { timeout: START_MS });

  after(async () => {
    await registered?.unregister().catch(() => {});
    await webhook?.cleanup();
    await cp?.stop();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  });

  test("with nothing missed, the first scan reports 0", async () => {
    await webhook!.waitForLog("the first missed-pod scan", (l) => l.msg === "missed-pod scan done");
    assert.equal(metricValue((await webhook!.get("/metrics")).body, "tailcar_webhook_missed_pods"), 0);
    assert.ok(isInjected(await client.create(application("before-outage"), { namespace: "outage" })));
  });

  test("with the webhook stopped, failurePolicy: Ignore admits pods untouched", async () => {
    const port = webhook!.port;
    assert.equal(await webhook!.stop(), 0, "the webhook exits 0 on SIGTERM");
    await webhook!.cleanup();
    const started = Date.now();
    const pod = await client.create(application("during-outage"), { namespace: "outage" });
    const ms = Date.now() - started;
    assert.equal(isInjected(pod), false);
    assert.deepEqual((pod.spec?.initContainers ?? []).map((c) => c.name), []);
    // Connection refused is answered at once: the outage costs the client no timeout.
    assert.ok(ms < 5_000, `create took ${ms} ms`);

    webhook = await startWebhook(args, { port });
  });

  test("after the restart the missed pod gets a TailcarNotInjected Event, a log line, and the gauge shows 1", async () => {
    const warned = await webhook!.waitForLog("the missed pod's log line", (l) => l.msg === "pod admitted without the webhook: no sidecars injected");
    assert.equal(warned["name"], "during-outage");
    assert.equal(warned["namespace"], "outage");
    await webhook!.waitForLog("the missed-pod scan", (l) => l.msg === "missed-pod scan done");
    assert.equal(metricValue((await webhook!.get("/metrics")).body, "tailcar_webhook_missed_pods"), 1);

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
    const reported = webhook!.logLines().filter((l) => l.msg === "pod admitted without the webhook: no sidecars injected").map((l) => l["name"]);
    assert.deepEqual(reported, ["during-outage"]);
    await pollUntil("the restarted webhook to inject again", async () => (isInjected(await client.create(application("probe"), { namespace: "outage", dryRun: true })) ? true : undefined), {
      timeoutMs: 15_000,
    });
    assert.ok(isInjected(await client.create(application("after-outage"), { namespace: "outage" })));
  });
});

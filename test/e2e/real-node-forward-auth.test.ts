// Forwarding credentials from a Secret on the real node: kubelet mounts the Secret the pod's
// tailcar.io/forward-auth-secret names into the forwarding sidecar (the webhook only wired the
// volume), VictoriaLogs in the node's namespace asks for basic auth (-httpAuth.*). The Secret starts
// with a wrong password: the sidecar says so in its log and stores nothing; the Secret is then
// updated through the API server, kubelet swaps the files in place, and every line arrives once with
// no restart of the sidecar. Needs root and the packages .ci/run installs (skipped with the reason
// without them, failed on CI).
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { leftoversOf, type RealNode } from "../../localcluster/node.ts";
import { skipReasonOrFail } from "../../localcluster/prerequisites.ts";
import { query } from "../../localcluster/backend/victorialogs.ts";
import { parseObjects, pollUntil, sleep } from "../../localcluster/harness/index.ts";
import { applicationPodYAML } from "../../localcluster/webhook-process.ts";
import { startInjectingNode } from "../../localcluster/injecting-node.ts";
import { startVictoriaLogsOnNode, type NodeVictoriaLogs } from "../../localcluster/victorialogs-on-node.ts";
import { numbered, sequenceReport } from "./sidecar-log-lines.ts";

const skip = skipReasonOrFail();
const NAMESPACE = "fwd-auth";
const USER = "shipper";
const PASSWORD = "right-Pa55:w@rd-71c2";
const WRONG = "wrong-Pa55:w@rd-09aa";
const LINES = 2_000;
const SECRET = "logs-backend";

let node: RealNode | undefined;
let stopWebhook: (() => Promise<void>) | undefined;
let vl: NodeVictoriaLogs | undefined;

before(async () => {
  if (skip) return;
  ({ node, stopWebhook } = await startInjectingNode({ enabled: NAMESPACE, restricted: `${NAMESPACE}-restricted` }));
});

after(async () => {
  await vl?.stop();
  await stopWebhook?.();
  if (node) {
    await node.stop();
    assert.deepEqual(leftoversOf(node), [], "the node left nothing behind");
  }
});

/** The docs' pod writing LINES numbered lines to /var/log/error.log only, then sleeping. */
function writerPod(name: string, annotations: Record<string, string>): V1Pod {
  const pod = structuredClone(parseObjects(applicationPodYAML())[0] as V1Pod);
  pod.metadata = { ...pod.metadata, name, annotations: { "tailcar.io/files": "/var/log/error.log", ...annotations } };
  const app = pod.spec?.containers[0] as V1Container;
  app.args = ["/bin/sh", "-c", `i=0; while [ $i -lt ${LINES} ]; do echo "$i: error" >> /var/log/error.log; i=$((i+1)); done; exec sleep 3600`];
  return pod;
}

const secret = (password: string) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: SECRET, namespace: NAMESPACE },
  type: "Opaque",
  stringData: { username: USER, password },
});

test("a forward-mode pod with its credentials in a Secret: a wrong password is an error in the sidecar's log with nothing stored; the Secret updated through the API, kubelet swaps the files and every line arrives once, without a restart", { skip, timeout: 10 * 60_000 }, async () => {
  vl = await startVictoriaLogsOnNode(node!, { username: USER, password: PASSWORD });
  const reader = vl.url.replace("://", `://${USER}:${encodeURIComponent(PASSWORD)}@`);
  await node!.client.create(secret(WRONG), { namespace: NAMESPACE });
  const pod = "shipper-auth";
  await node!.client.create(writerPod(pod, {
    "tailcar.io/mode": "forward",
    "tailcar.io/forward-sink": "loki",
    "tailcar.io/forward-endpoint": `${vl.podURL}/insert`,
    "tailcar.io/forward-auth-secret": SECRET,
  }), { namespace: NAMESPACE });
  const logOf = () => node!.client.core.readNamespacedPodLog({ name: pod, namespace: NAMESPACE, container: "error-log" });
  const denied = await pollUntil("the sidecar to report the refused credentials", async () => {
    const log = await logOf().catch(() => "");
    return log.split("\n").find((l) => l.includes("backend refused the credentials"));
  }, { timeoutMs: 120_000, intervalMs: 500 });
  const line = JSON.parse(denied) as Record<string, unknown>;
  assert.deepEqual([line.level, line.status], ["error", 401]);
  assert.equal((await query(reader, `pod:${pod} | stats count() as n`))[0]?.n ?? "0", "0", "nothing stored with the wrong password");

  const fixedAt = Date.now();
  await node!.client.core.replaceNamespacedSecret({ name: SECRET, namespace: NAMESPACE, body: secret(PASSWORD) });
  const stored = await pollUntil(`VictoriaLogs to hold ${LINES} lines`, async () => {
    const n = Number((await query(reader, `pod:${pod} | stats count() as n`))[0]?.n ?? 0);
    return n >= LINES ? n : undefined;
  }, { timeoutMs: 180_000, intervalMs: 1000 });
  const deliveredMs = Date.now() - fixedAt;
  await sleep(2000); // a late duplicate would show
  const rows = await query(reader, `pod:${pod} | fields _msg`);
  assert.deepEqual(sequenceReport(numbered(rows.map((r) => r._msg ?? ""), /^(\d+): error$/).sort((a, b) => a - b), LINES), { missing: 0, duplicates: 0, breaks: 0, unexpected: 0, firstBreaks: [] }, `${rows.length} rows`);
  const status = (await node!.client.core.readNamespacedPod({ name: pod, namespace: NAMESPACE })).status;
  const sidecar = [...(status?.initContainerStatuses ?? []), ...(status?.containerStatuses ?? [])].find((s) => s.name === "error-log");
  assert.equal(sidecar?.restartCount, 0, "the sidecar was not restarted");
  const log = await logOf();
  for (const form of [PASSWORD, WRONG, encodeURIComponent(PASSWORD), Buffer.from(`${USER}:${PASSWORD}`).toString("base64")]) assert.ok(!log.includes(form), "the sidecar's log holds a password");
  process.stderr.write(`real node forward auth: ${stored} lines stored once ${(deliveredMs / 1000).toFixed(1)} s after the Secret was updated, no restart\n`);
});

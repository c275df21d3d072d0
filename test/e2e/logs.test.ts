// No kubelet here, so run the injected pod as a kubelet would: read it back from the API server, start
// the app's command and the injected sidecar's exact command, args and env as local processes (each
// volume a temporary folder), and check what `kubectl logs POD -c error-log` would show, or, for a
// forward-mode pod, what a real log backend received.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { query, startVictoriaLogs, type VictoriaLogs } from "../backend/victorialogs.ts";
import { pollUntil, sleep, type TestClient } from "../../localcluster/harness/index.ts";
import { prepareLocalPod, type LocalContainer, type LocalPod } from "../../localcluster/run-pod-locally.ts";
import { startWebhookCluster, type WebhookCluster } from "./webhook-cluster.ts";

const START_MS = 10 * 60_000;
const LINES = 2_000;

/** The docs' application pod, with a writer that stops after LINES numbered lines (then idles like an app). */
function writerPod(name: string, annotations: Readonly<Record<string, string>> = {}): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, annotations: { "tailcar.io/files": "/var/log/error.log,/var/log/access.log", ...annotations } },
    spec: {
      containers: [
        {
          name: "app",
          image: "busybox:1.28",
          command: ["/bin/sh", "-c"],
          args: [
            `i=1; while [ $i -le ${LINES} ]; do echo "$i: error number $i" >> /var/log/error.log; echo "GET /$i" >> /var/log/access.log; i=$((i+1)); done; sleep 3600`,
          ],
          volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
        },
      ],
      volumes: [{ name: "varlog", emptyDir: {} }],
    },
  };
}

/** SIGTERM ends a sidecar with exit 0 within 10 s. */
async function assertStopsCleanly(sidecar: LocalContainer): Promise<void> {
  sidecar.signal("SIGTERM");
  const code = await Promise.race([sidecar.exited, sleep(10_000).then(() => "no exit within 10 s")]);
  assert.equal(code, 0, `sidecar exit after SIGTERM: ${String(code)}; stderr:\n${sidecar.logTail()}`);
}

describe("the injected sidecar, run as the kubelet would, streams every line the app wrote", { timeout: START_MS + 3 * 60_000 }, () => {
  let cluster: WebhookCluster | undefined;
  let client: TestClient;
  let local: LocalPod | undefined;
  let shipper: LocalPod | undefined;
  let backend: VictoriaLogs | undefined;

  before(async () => {
    backend = await startVictoriaLogs();
    cluster = await startWebhookCluster({
      withControllerManager: false,
      namespaces: { logs: { "tailcar.io/injection": "enabled" } },
      probe: { namespace: "logs", pod: writerPod("probe") },
    });
    client = cluster.client;
  }, { timeout: START_MS });

  after(async () => {
    await local?.cleanup();
    await shipper?.cleanup();
    await cluster?.stop();
    await backend?.dispose();
  });

  test(`the error-log sidecar's stdout carries all ${LINES} lines, exactly once and in order; SIGTERM stops it with exit 0`, async () => {
    await client.create(writerPod("application"), { namespace: "logs" });
    const pod = await client.getPod("logs", "application");
    const sidecar = pod.spec?.initContainers?.find((c) => c.name === "error-log");
    assert.ok(sidecar, "the pod read back has no error-log sidecar");
    assert.equal(sidecar.restartPolicy, "Always");

    local = prepareLocalPod(pod);
    // Native sidecars start before the app, as the kubelet starts them.
    const errorLog = local.startContainer("error-log");
    const accessLog = local.startContainer("access-log");
    let out = "";
    errorLog.stdout.setEncoding("utf8");
    errorLog.stdout.on("data", (d: string) => (out += d));
    accessLog.stdout.resume();
    const app = local.startContainer("app");
    app.stdout.resume();

    const expected = Array.from({ length: LINES }, (_, i) => `${i + 1}: error number ${i + 1}\n`).join("");
    const started = Date.now();
    await pollUntil(`the error-log sidecar to print ${LINES} lines`, async () => (out.length >= expected.length ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      abortIf: () => (errorLog.hasExited() ? `the sidecar exited: ${errorLog.logTail()}` : undefined),
    });
    const ms = Date.now() - started;
    // A little longer, so a duplicate or a late extra line would show.
    await sleep(500);
    assert.equal(readFileSync(local.localPath("app", "/var/log/error.log"), "utf8"), expected, "the app's file");
    const lines = out.split("\n").filter((l) => l !== "");
    assert.equal(lines.length, LINES, `sidecar printed ${lines.length} lines`);
    assert.equal(out, expected, "the sidecar's stdout differs from the file the app wrote");
    process.stderr.write(`logs.test: ${LINES} lines through the injected sidecar in ${ms} ms\n`);

    await assertStopsCleanly(errorLog);
  });

  test(`a forward-mode pod's two sidecars push all ${LINES} lines of each file to a real backend (Loki push into VictoriaLogs), labelled with the pod, once each`, async () => {
    const endpoint = `${backend!.url}/insert`; // VictoriaLogs serves the Loki push API under /insert
    await client.create(writerPod("shipper", { "tailcar.io/mode": "forward", "tailcar.io/forward-sink": "loki", "tailcar.io/forward-endpoint": endpoint }), { namespace: "logs" });
    const pod = await client.getPod("logs", "shipper");
    shipper = prepareLocalPod(pod);
    const sidecars = ["error-log", "access-log"].map((name) => shipper!.startContainer(name));
    for (const s of sidecars) s.stdout.resume();
    shipper.startContainer("app").stdout.resume();

    // Per stream: lines stored, distinct lines, and the labels the sidecar gave them.
    const streams = async (): Promise<Record<string, string>[]> =>
      query(backend!.url, "* | stats by (file, pod, namespace, container) count() as n, count_uniq(_msg) as u");
    const rows = await pollUntil(
      `VictoriaLogs to hold ${LINES} lines from each sidecar`,
      async () => {
        const r = await streams();
        return r.length === 2 && r.every((x) => Number(x.u) >= LINES) ? r : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 500,
        abortIf: () => {
          const gone = sidecars.find((s) => s.hasExited());
          return gone ? `a sidecar exited: ${gone.logTail()}` : undefined;
        },
      },
    );
    await sleep(1500); // VictoriaLogs makes rows searchable within about a second: a late duplicate would show
    const settled = await streams();
    assert.deepEqual(
      settled.map((r) => ({ ...r })).sort((a, b) => a.file!.localeCompare(b.file!)),
      [
        // The file label is the path the sidecar followed: here the local folder standing in for the mount.
        { file: shipper.localPath("access-log", "/var/log/access.log"), pod: "shipper", namespace: "logs", container: "access-log", n: String(LINES), u: String(LINES) },
        { file: shipper.localPath("error-log", "/var/log/error.log"), pod: "shipper", namespace: "logs", container: "error-log", n: String(LINES), u: String(LINES) },
      ],
      `streams as stored (first seen complete: ${JSON.stringify(rows)})`,
    );
    for (const s of sidecars) await assertStopsCleanly(s);
  });
});

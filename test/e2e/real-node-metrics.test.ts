// Sidecar metrics on the real node (issue 19): a pod asking for them (tailcar.io/sidecar-metrics) is injected
// with a metrics port and a readiness probe per sidecar, becomes Ready with one of its two files
// never written (a missing log file does not make it unready), and its sidecars' /metrics and /readyz
// answer over the pod's IP from inside the node's network namespace, where Prometheus would scrape
// them: the lines-read counter is the number of lines the app wrote. And `tailcar check pod` reads
// a running sidecar's state the way it does on a cluster, through the API server's pod proxy (the
// API server runs in the node's network namespace, where pod IPs are routed). Needs root and the
// packages .ci/run installs (skipped with the reason without them, failed on CI).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { V1Pod } from "@kubernetes/client-node";
import { startInjectingNode } from "../../localcluster/injecting-node.ts";
import { inNetns } from "../../localcluster/netns.ts";
import { leftoversOf, type RealNode } from "../../localcluster/node.ts";
import { skipReasonOrFail } from "../../localcluster/prerequisites.ts";
import { pollUntil } from "../../localcluster/harness/index.ts";
import { METRICS_PATH, READY_PATH } from "../../settings/sidecar-paths.ts";
import { METRICS_LABEL, METRICS_PORT_BASE, metricsPortName } from "../../webhook/metrics-ports.ts";
import { fileLines, numbered, sequenceReport } from "./sidecar-log-lines.ts";
import { find, tailcarCheck } from "./tailcar-check.ts";

const run = promisify(execFile);
const skip = skipReasonOrFail();
const NAMESPACE = "metrics";
const LINES = 2_000;

let node: RealNode | undefined;
let stopWebhook: (() => Promise<void>) | undefined;

before(async () => {
  if (skip) return;
  ({ node, stopWebhook } = await startInjectingNode({ enabled: NAMESPACE, restricted: "metrics-restricted" }));
});

after(async () => {
  await stopWebhook?.();
  if (node) {
    await node.stop();
    assert.deepEqual(leftoversOf(node), [], "the node left nothing behind");
  }
});

/** An app that writes LINES numbered lines to /var/log/app.log, then sleeps; /var/log/never.log is never written. */
function pod(name: string, metrics: boolean): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, annotations: { "tailcar.io/files": "/var/log/app.log,/var/log/never.log", ...(metrics && { "tailcar.io/sidecar-metrics": "true" }) } },
    spec: {
      containers: [{
        name: "app",
        image: "busybox:1.28",
        args: ["/bin/sh", "-c", `i=0; while [ $i -lt ${LINES} ]; do echo "$i: metered" >> /var/log/app.log; i=$((i+1)); done; echo "wrote $i"; exec sleep 3600`],
        volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
      }],
      volumes: [{ name: "varlog", emptyDir: {} }],
    },
  };
}

const isReady = (p: V1Pod): boolean => p.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") === true;

/** Ms from `created` until the pod is Ready. */
async function readyAfter(name: string, created: number): Promise<{ pod: V1Pod; ms: number }> {
  const ready = await pollUntil(`pod ${name} to be Ready`, async () => {
    const p = await node!.client.getPod(NAMESPACE, name);
    return isReady(p) ? p : undefined;
  }, { timeoutMs: 120_000, intervalMs: 100 });
  return { pod: ready, ms: Date.now() - created };
}

/** GET `url` from inside the node's network namespace, where pod IPs are routed (as a Prometheus on the node would). */
async function getInNode(url: string): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(5000) }).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })), (e) => { process.stderr.write(String(e?.cause ?? e)); process.exit(1); });`;
  const cmd = inNetns(node!.netns, process.execPath, ["-e", script]);
  const { stdout } = await run(cmd.command, cmd.args, { timeout: 20_000 });
  return JSON.parse(stdout) as { status: number; body: string };
}

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("a pod with tailcar.io/sidecar-metrics on the real node becomes Ready with a file never written; its sidecars' /readyz and /metrics answer on the pod IP inside the node's network, lines read = lines written", { skip }, async () => {
  const { client } = node!;
  const createdPlain = Date.now();
  await client.create(pod("plain", false), { namespace: NAMESPACE });
  const createdMetered = Date.now();
  await client.create(pod("metered", true), { namespace: NAMESPACE });

  const injected = await client.getPod(NAMESPACE, "metered");
  assert.equal(injected.metadata?.labels?.[METRICS_LABEL], "true", "the label the PodMonitor selects");
  const sidecars = injected.spec?.initContainers ?? [];
  assert.deepEqual(sidecars.map((c) => [c.name, c.ports?.map((p) => [p.name, p.containerPort]), c.readinessProbe?.httpGet?.path, c.startupProbe]), [
    ["app-log", [[metricsPortName(METRICS_PORT_BASE), METRICS_PORT_BASE]], READY_PATH, undefined],
    ["never-log", [[metricsPortName(METRICS_PORT_BASE + 1), METRICS_PORT_BASE + 1]], READY_PATH, undefined],
  ]);

  const [metered, plain] = await Promise.all([readyAfter("metered", createdMetered), readyAfter("plain", createdPlain)]);
  for (const s of metered.pod.status?.initContainerStatuses ?? []) assert.equal(s.ready, true, `${s.name} is ready`);
  const ip = metered.pod.status?.podIP;
  assert.ok(ip, "the pod's IP");

  const ready = await getInNode(`http://${ip}:${METRICS_PORT_BASE + 1}${READY_PATH}`);
  assert.deepEqual({ status: ready.status, body: JSON.parse(ready.body) as unknown }, {
    status: 200,
    body: { ready: true, files: [{ file: "/var/log/never.log", state: "waiting", reason: "missing" }] },
  }, "the sidecar of the file never written is ready, and says why it reads nothing");

  const read = `tailcar_sidecar_lines_read_total{file="/var/log/app.log"}`;
  const written = `tailcar_sidecar_lines_written_total{file="/var/log/app.log"}`;
  const url = `http://${ip}:${METRICS_PORT_BASE}${METRICS_PATH}`;
  await pollUntil(`${LINES} lines read in ${url}`, async () => ((sample((await getInNode(url)).body, read) ?? 0) >= LINES ? true : undefined), { timeoutMs: 60_000, intervalMs: 500 });
  await new Promise((r) => setTimeout(r, 1500)); // a late double count would show
  const metrics = (await getInNode(url)).body;
  assert.equal(sample(metrics, read), LINES, "lines read = lines the app wrote");
  assert.equal(sample(metrics, written), LINES, "lines written = lines the app wrote");
  assert.equal(sample(metrics, `tailcar_sidecar_file_not_followed{file="/var/log/app.log",reason="missing"}`), undefined);
  const never = (await getInNode(`http://${ip}:${METRICS_PORT_BASE + 1}${METRICS_PATH}`)).body;
  assert.equal(sample(never, `tailcar_sidecar_file_not_followed{file="/var/log/never.log",reason="missing"}`), 1);

  // Warm rounds, the node's first pods behind it: does the readiness probe delay the pod's Ready?
  const warm: { metered: number; plain: number }[] = [];
  for (let round = 1; round <= 3; round++) {
    const createdP = Date.now();
    await client.create(pod(`plain-${round}`, false), { namespace: NAMESPACE });
    const createdM = Date.now();
    await client.create(pod(`metered-${round}`, true), { namespace: NAMESPACE });
    const [m, p] = await Promise.all([readyAfter(`metered-${round}`, createdM), readyAfter(`plain-${round}`, createdP)]);
    warm.push({ metered: m.ms, plain: p.ms });
  }
  const seconds = (ms: number): string => (ms / 1000).toFixed(1);

  const logged = numbered(fileLines(await client.core.readNamespacedPodLog({ name: "metered", namespace: NAMESPACE, container: "app-log" })), /^(\d+): metered$/);
  assert.deepEqual(sequenceReport(logged, LINES), { missing: 0, duplicates: 0, breaks: 0, unexpected: 0, firstBreaks: [] }, "kubectl logs -c app-log: every line once");
  process.stderr.write(
    `real node metrics: pod Ready after create with metrics and readiness probes / without, created together: first pods ${seconds(metered.ms)} / ${seconds(plain.ms)} s, then ${warm.map((w) => `${seconds(w.metered)} / ${seconds(w.plain)}`).join(", ")} s; ${LINES} lines read and written by the counters, scraped on ${ip}\n`,
  );
});

/** An app that writes 100 lines to /var/log/app.log, renames it to app.log.1 (a rotation), then writes 50 lines to a new app.log. */
function rotatingPod(name: string): V1Pod {
  const write = (n: number, what: string): string => `i=0; while [ $i -lt ${n} ]; do echo "$i: ${what}" >> /var/log/app.log; i=$((i+1)); done`;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, annotations: { "tailcar.io/files": "/var/log/app.log,/var/log/never.log", "tailcar.io/sidecar-metrics": "true" } },
    spec: {
      containers: [{
        name: "app",
        image: "busybox:1.28",
        // The pause lets the sidecar open the first file before it is renamed, so that it sees a rotation.
        args: ["/bin/sh", "-c", `${write(100, "before")}; sleep 3; mv /var/log/app.log /var/log/app.log.1; ${write(50, "after")}; exec sleep 3600`],
        volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
      }],
      volumes: [{ name: "varlog", emptyDir: {} }],
    },
  };
}

test("tailcar check pod on the real node reads each sidecar's state through the API server's pod proxy: its lag and rotations line is the sidecar's own counters (a rotated file: 1 rotation, 150 lines read)", { skip }, async () => {
  const { client, cp } = node!;
  await client.create(rotatingPod("rotated"), { namespace: NAMESPACE });
  const { pod: running } = await readyAfter("rotated", Date.now());
  const ip = running.status?.podIP;
  assert.ok(ip, "the pod's IP");

  // The sidecar's own page, scraped on the pod IP inside the node's network: the rotation seen, every line read, nothing behind.
  const url = `http://${ip}:${METRICS_PORT_BASE}${METRICS_PATH}`;
  const series = (name: string): string => `${name}{file="/var/log/app.log"}`;
  const page = await pollUntil(`the rotation and 150 lines read in ${url}`, async () => {
    const body = (await getInNode(url)).body;
    return sample(body, series("tailcar_sidecar_rotations_total")) === 1 && sample(body, series("tailcar_sidecar_lines_read_total")) === 150 && sample(body, series("tailcar_sidecar_lag_bytes")) === 0 ? body : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  const state = (name: string): number | undefined => sample(page, series(name));

  const started = Date.now();
  const run = await tailcarCheck(cp.kubeconfigPath, ["pod", "rotated", "-n", NAMESPACE]);
  const checkMs = Date.now() - started;
  const metrics = find(run, "sidecar-metrics");
  const app = metrics.find((c) => c.message.startsWith("/var/log/app.log:"));
  assert.deepEqual(app && { status: app.status, message: app.message }, {
    status: "ok",
    message: `/var/log/app.log: followed by sidecar app-log: lag ${state("tailcar_sidecar_lag_bytes")} bytes, ${state("tailcar_sidecar_rotations_total")} rotations, ${state("tailcar_sidecar_truncations_total")} truncations, 0 bytes lost to copytruncate`,
  }, `the state of app.log as the sidecar's /metrics gives it:\n${run.stdout}\n${run.stderr}`);
  assert.match(app!.message, /lag 0 bytes, 1 rotations, 0 truncations/);
  const never = metrics.find((c) => c.message.startsWith("/var/log/never.log:"));
  assert.deepEqual(never && { status: never.status, message: never.message }, {
    status: "warn",
    message: "/var/log/never.log: sidecar never-log waits for the file, which does not exist yet",
  }, "the other sidecar's metrics say its file is missing");
  for (const c of find(run, "sidecar-state")) assert.equal(c.status, "ok", c.message);
  assert.doesNotMatch(run.stdout, /through the API server's pod proxy failed/);
  process.stderr.write(`real node check: tailcar check pod read both sidecars' metrics through the pod proxy in ${(checkMs / 1000).toFixed(1)} s (exit ${run.code})\n`);
});

// Bounded disk on the real node (issue 18): a pod with tailcar.io/reclaim whose app (runAsUser named
// in the spec) writes LINES lines of 1 KiB into the emptyDir the pod declares, as fast as it can, and
// never rotates. The injector mounts the volume writable in the sidecar and says so in
// tailcar.io/status; the sidecar image's fallocate (util-linux's, localcluster/images.ts) punches the
// delivered prefix out of the file in kubelet's emptyDir: its st_blocks end far below its size, the
// reclaimed-bytes counter says how much, and lines written = lines the app wrote. Needs root and
// the packages .ci/run installs (skipped with the reason without them, failed on CI).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { statSync } from "node:fs";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { V1Pod } from "@kubernetes/client-node";
import { startInjectingNode } from "../../localcluster/injecting-node.ts";
import { inNetns } from "../../localcluster/netns.ts";
import { leftoversOf, type RealNode } from "../../localcluster/node.ts";
import { skipReasonOrFail } from "../../localcluster/prerequisites.ts";
import { pollUntil } from "../../localcluster/harness/index.ts";
import { METRICS_PATH } from "../../settings/sidecar-paths.ts";
import { METRICS_PORT_BASE } from "../../webhook/metrics-ports.ts";

const run = promisify(execFile);
const skip = skipReasonOrFail();
const NAMESPACE = "reclaim";
const LINES = 200_000; // of 1,001 bytes: 191 MiB
const FILE = "/var/log/app.log";
const MiB = 1024 * 1024;

let node: RealNode | undefined;
let stopWebhook: (() => Promise<void>) | undefined;

before(async () => {
  if (skip) return;
  ({ node, stopWebhook } = await startInjectingNode({ enabled: NAMESPACE, restricted: "reclaim-restricted" }));
});

after(async () => {
  await stopWebhook?.();
  if (node) {
    await node.stop();
    assert.deepEqual(leftoversOf(node), [], "the node left nothing behind");
  }
});

const pod: V1Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "chatty", annotations: { "tailcar.io/files": FILE, "tailcar.io/reclaim": "true", "tailcar.io/sidecar-metrics": "true" } },
  spec: {
    securityContext: { runAsUser: 1000, runAsGroup: 1000 },
    containers: [{
      name: "app",
      image: "busybox:1.28",
      args: ["/bin/sh", "-c", `yes "$(printf '%01000d' 0)" | head -n ${LINES} >> ${FILE}; echo wrote; exec sleep 3600`],
      volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
    }],
    volumes: [{ name: "varlog", emptyDir: {} }],
  },
};

/** GET `url` from inside the node's network namespace, where pod IPs are routed. */
async function getInNode(url: string): Promise<string> {
  const script = `fetch(${JSON.stringify(url)}, { signal: AbortSignal.timeout(5000) }).then(async (r) => process.stdout.write(await r.text()), (e) => { process.stderr.write(String(e?.cause ?? e)); process.exit(1); });`;
  const cmd = inNetns(node!.netns, process.execPath, ["-e", script]);
  return (await run(cmd.command, cmd.args, { timeout: 20_000 })).stdout;
}

function sample(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test("a pod with tailcar.io/reclaim on the real node: writable log mount for the sidecar, the delivered prefix of a file never rotated freed from kubelet's emptyDir, every line delivered", { skip, timeout: 600_000 }, async () => {
  const { client } = node!;
  await client.create(pod, { namespace: NAMESPACE });
  const injected = await client.getPod(NAMESPACE, "chatty");
  const status = JSON.parse(injected.metadata?.annotations?.["tailcar.io/status"] ?? "{}") as { reclaim?: string[] };
  assert.deepEqual(status.reclaim, ["app-log"], "tailcar.io/status lists the sidecar with a writable mount");
  const sidecar = injected.spec?.initContainers?.find((c) => c.name === "app-log");
  // The API server leaves out a false readOnly (omitempty).
  const mount = sidecar?.volumeMounts?.find((m) => m.mountPath === "/var/log");
  assert.ok(mount !== undefined && mount.readOnly !== true, `the sidecar's log mount is writable: ${JSON.stringify(mount)}`);
  assert.equal(sidecar?.env?.find((e) => e.name === "TAILCAR_RECLAIM")?.value, "64Mi");

  const ip = await pollUntil("the pod's IP", async () => (await client.getPod(NAMESPACE, "chatty")).status?.podIP || undefined, { timeoutMs: 180_000, intervalMs: 200 });
  const url = `http://${ip}:${METRICS_PORT_BASE}${METRICS_PATH}`;
  const written = `tailcar_sidecar_lines_written_total{file="${FILE}"}`;
  const reclaimed = `tailcar_sidecar_reclaimed_bytes_total{file="${FILE}"}`;
  const started = Date.now();
  await pollUntil(`${LINES} lines written in ${url}`, async () => {
    const text = await getInNode(url).catch(() => "");
    return (sample(text, written) ?? 0) >= LINES ? true : undefined;
  }, { timeoutMs: 300_000, intervalMs: 500 });
  // The last checkpoint (every second) and the punch after it.
  await pollUntil("the last punch", async () => {
    const text = await getInNode(url);
    const failures = sample(text, `tailcar_sidecar_reclaim_failures_total{file="${FILE}"}`) ?? 0;
    if (failures > 0) throw new Error(`the sidecar could not punch holes (${failures} failures; its log says why: no fallocate that punches in the image, no permission, no support)`);
    return (sample(text, reclaimed) ?? 0) >= 128 * MiB ? true : undefined;
  }, { timeoutMs: 30_000, intervalMs: 500 });
  const metrics = await getInNode(url);
  assert.equal(sample(metrics, written), LINES, "lines written = lines the app wrote");
  assert.equal(sample(metrics, `tailcar_sidecar_reclaim_failures_total{file="${FILE}"}`), 0);

  const uid = injected.metadata!.uid!;
  const found = (await run("find", [node!.dir, "-path", `*/pods/${uid}/volumes/kubernetes.io~empty-dir/varlog/app.log`])).stdout.trim().split("\n").filter(Boolean);
  assert.equal(found.length, 1, `kubelet's emptyDir file for pod ${uid}: ${found.join(", ")}`);
  const st = statSync(found[0]!);
  assert.equal(st.size, LINES * 1001, "the file keeps its size");
  const onDisk = st.blocks * 512;
  assert.ok(onDisk <= 64 * MiB + MiB, `${onDisk} bytes on disk: at most one 64 MiB step and a block or two are left`);
  process.stderr.write(`real node reclaim: ${(st.size / MiB).toFixed(0)} MiB written, ${(onDisk / MiB).toFixed(1)} MiB on disk, ${((sample(metrics, reclaimed) ?? 0) / MiB).toFixed(0)} MiB reclaimed; delivered in ${((Date.now() - started) / 1000).toFixed(1)} s from the pod's IP\n`);
});

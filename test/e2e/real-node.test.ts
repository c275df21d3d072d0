// The docs' application pod on a real node: the API server calls `tailcar webhook`, the scheduler
// places the injected pod, kubelet and containerd run the busybox app and the tailcar sidecar image
// (built from Dockerfile.sidecar), and `GET pods/log?container=error-log` (what `kubectl logs
// application -c error-log` asks) goes through the API server to the kubelet. Needs root and the
// packages .ci/run installs; skipped with the reason on a machine without them, failed on CI.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { SIDECAR_IMAGE } from "../../localcluster/images.ts";
import { leftoversOf, type RealNode } from "../../localcluster/node.ts";
import { skipReasonOrFail } from "../../localcluster/prerequisites.ts";
import { KUBELET_SYSCTLS } from "../../localcluster/kubelet-config.ts";
import { pollUntil } from "../../localcluster/harness/index.ts";
import { applicationPodYAML } from "../../localcluster/webhook-process.ts";
import { fileLines, numbered } from "./sidecar-log-lines.ts";
import { startInjectingNode } from "../../localcluster/injecting-node.ts";

const skip = skipReasonOrFail();
const NAMESPACE = "demo";
const RESTRICTED = "restricted-demo";
/** Lines the test waits for in each stream; the docs' app writes one a second. */
const LINES = 5;

const hostSysctls = (): Record<string, string> =>
  Object.fromEntries(Object.keys(KUBELET_SYSCTLS).map((e) => [e, readFileSync(`/proc/sys/${e}`, "utf8").trim()]));

let node: RealNode | undefined;
let stopWebhook: (() => Promise<void>) | undefined;
const sysctlsBefore = skip ? {} : hostSysctls();

before(async () => {
  if (skip) return;
  ({ node, stopWebhook } = await startInjectingNode({ enabled: NAMESPACE, restricted: RESTRICTED }));
});

after(async () => {
  await stopWebhook?.();
  if (node) {
    await node.stop();
    assert.deepEqual(leftoversOf(node), [], "the node left nothing behind");
    assert.deepEqual(hostSysctls(), sysctlsBefore, "the machine's sysctls are unchanged (kubelet wrote into the bound files)");
  }
});

test("the docs' application pod is injected, runs on the real node, and kubectl logs -c error-log / -c access-log show every line once, in order", { skip }, async () => {
  assert.ok(node);
  const { client } = node;
  const created = Date.now();
  await client.create(applicationPodYAML(), { namespace: NAMESPACE });
  const pod = await client.getPod(NAMESPACE, "application");
  const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
  assert.ok(names.includes("error-log") && names.includes("access-log"), `injected containers: ${names.join(", ")}`);

  const logOf = async (container: string): Promise<string[]> => {
    return fileLines(await client.core.readNamespacedPodLog({ name: "application", namespace: NAMESPACE, container }));
  };
  let firstLineMs = 0;
  const errors = await pollUntil(
    `${LINES} lines in kubectl logs application -c error-log`,
    async () => {
      const lines = await logOf("error-log");
      if (lines.length > 0 && firstLineMs === 0) firstLineMs = Date.now() - created;
      return lines.length >= LINES ? lines : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const errorNumbers = numbered(errors, /^(\d+): .+ error$/);
  assert.deepEqual(errorNumbers, errorNumbers.map((_, i) => i), "every error.log line once, in order, from the first");

  const access = await pollUntil(`${LINES} lines in -c access-log`, async () => ((await logOf("access-log")).length >= LINES ? logOf("access-log") : undefined), {
    timeoutMs: 30_000,
    intervalMs: 500,
  });
  const accessNumbers = numbered(access, /^.+ INFO (\d+) GET \/$/);
  assert.deepEqual(accessNumbers, accessNumbers.map((_, i) => i), "every access.log line once, in order, from the first");

  const running = await client.getPod(NAMESPACE, "application");
  const sidecar = running.status?.initContainerStatuses?.find((s) => s.name === "error-log") ?? running.status?.containerStatuses?.find((s) => s.name === "error-log");
  assert.equal(sidecar?.image?.endsWith(SIDECAR_IMAGE.split("/").pop() ?? ""), true, `the sidecar runs the image built here: ${sidecar?.image}`);
  process.stderr.write(
    `real node: pod create to first error-log line ${firstLineMs} ms; node Ready ${node.timings.nodeReadyMs} ms (kubelet ${node.timings.kubeletReadyMs} ms)\n`,
  );
});

const sidecarOf = (pod: V1Pod, file: string): string => {
  const names = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
  const name = file.split("/").pop()?.replace(/[^a-z0-9]+/g, "-") ?? "";
  assert.ok(names.includes(name), `a sidecar ${name} for ${file} among ${names.join(", ")}`);
  return name;
};

const JOB_LINES = 200;

test("a Job with a native sidecar completes once its app exits, and the sidecar's last lines reach kubectl logs", { skip }, async () => {
  assert.ok(node);
  const { client } = node;
  const started = Date.now();
  await client.create(
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "batch" },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: { annotations: { "tailcar.io/files": "/var/log/batch.log" } },
          spec: {
            restartPolicy: "Never",
            containers: [
              {
                name: "app",
                image: "busybox:1.28",
                args: ["/bin/sh", "-c", `i=0; while [ $i -lt ${JOB_LINES} ]; do echo "$i: batch line" >> /var/log/batch.log; i=$((i+1)); done`],
                volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
              },
            ],
            volumes: [{ name: "varlog", emptyDir: {} }],
          },
        },
      },
    },
    { namespace: NAMESPACE },
  );
  const [pod] = await client.waitForPodsOf("Job", NAMESPACE, "batch");
  assert.ok(pod?.metadata?.name);
  const sidecar = sidecarOf(pod, "/var/log/batch.log");
  assert.equal(pod.spec?.initContainers?.find((c) => c.name === sidecar)?.restartPolicy, "Always", "injected as a native sidecar");
  const job = await pollUntil(
    "Job batch to complete",
    async () => {
      const j = await client.batch.readNamespacedJob({ namespace: NAMESPACE, name: "batch" });
      const failed = j.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
      if (failed) throw new Error(`the Job failed: ${failed.reason}: ${failed.message}`);
      return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ? j : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  assert.equal(job.status?.succeeded, 1);
  const log = await client.core.readNamespacedPodLog({ name: pod.metadata.name, namespace: NAMESPACE, container: sidecar });
  const numbers = numbered(fileLines(log), /^(\d+): batch line$/);
  assert.deepEqual(numbers, Array.from({ length: JOB_LINES }, (_, i) => i), "every line once, in order, the last ones included");
  const done = await client.getPod(NAMESPACE, pod.metadata.name);
  const sidecarStatus = done.status?.initContainerStatuses?.find((s) => s.name === sidecar);
  assert.equal(sidecarStatus?.state?.terminated?.exitCode, 0, `the sidecar exits 0 on kubelet's SIGTERM: ${JSON.stringify(sidecarStatus?.state)}`);
  process.stderr.write(`real node: Job complete in ${Date.now() - started} ms; sidecar ended with ${JSON.stringify(sidecarStatus?.state?.terminated?.exitCode)}\n`);
});

test("under Pod Security restricted the injected pod is admitted and runs; its sidecar runs as non-root on a read-only root and reads the app's files", { skip }, async () => {
  assert.ok(node);
  const { client } = node;
  const restricted = {
    allowPrivilegeEscalation: false,
    capabilities: { drop: ["ALL"] },
    runAsNonRoot: true,
    seccompProfile: { type: "RuntimeDefault" },
  };
  await client.create(
    {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "restricted-app", annotations: { "tailcar.io/files": "/var/log/app.log" } },
      spec: {
        securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
        containers: [
          {
            name: "app",
            image: "busybox:1.28",
            args: ["/bin/sh", "-c", 'i=0; while true; do echo "$i: restricted" >> /var/log/app.log; i=$((i+1)); sleep 0.2; done'],
            securityContext: restricted,
            volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
          },
        ],
        volumes: [{ name: "varlog", emptyDir: {} }],
      },
    },
    { namespace: RESTRICTED },
  );
  const pod = await client.getPod(RESTRICTED, "restricted-app");
  const sidecar = sidecarOf(pod, "/var/log/app.log");
  const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === sidecar);
  assert.equal(spec?.securityContext?.readOnlyRootFilesystem, true);
  assert.notEqual(spec?.securityContext?.runAsUser ?? pod.spec?.securityContext?.runAsUser, 0);
  const lines = await pollUntil(
    "5 lines in kubectl logs restricted-app -c " + sidecar,
    async () => {
      const text = await client.core.readNamespacedPodLog({ name: "restricted-app", namespace: RESTRICTED, container: sidecar });
      const all = fileLines(text);
      return all.length >= 5 ? all : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 500 },
  );
  const numbers = numbered(lines, /^(\d+): restricted$/);
  assert.deepEqual(numbers, numbers.map((_, i) => i));
});

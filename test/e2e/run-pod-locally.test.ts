import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { expandVariables, resolveEnv, rewritePaths } from "../../localcluster/harness/local-pod-spec.ts";
import { isAlive } from "../../localcluster/harness/processes.ts";
import { pollUntil } from "../../localcluster/harness/poll.ts";
import { prepareLocalPod, SIDECAR_ENTRYPOINT, TAILCAR_CLI, type LocalContainer } from "../../localcluster/run-pod-locally.ts";

const LINES = 300;

/** A busybox-style writer and a `tail -F` reader sharing an emptyDir, as in the Kubernetes docs. */
function handWrittenPod(): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "counter", namespace: "demo", labels: { app: "counter" } },
    spec: {
      nodeName: "node-1",
      volumes: [{ name: "varlog", emptyDir: {} }],
      containers: [
        {
          name: "count",
          image: "busybox",
          command: ["sh", "-c"],
          args: [
            `echo "pod $(POD_NAME) in $POD_NAMESPACE on $NODE"; i=0; while [ $i -lt ${LINES} ]; do i=$((i+1)); echo "$i" >> /var/log/1.log; done; sleep 60`,
          ],
          env: [
            { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
            { name: "NODE", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
          ],
          volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
        },
        {
          name: "count-log-1",
          image: "busybox",
          command: ["tail"],
          args: ["-n+1", "-F", "$(LOG_DIR)/1.log"],
          env: [{ name: "LOG_DIR", value: "/var/log" }],
          volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
        },
      ],
    },
  };
}

function collect(container: LocalContainer): () => string {
  let text = "";
  container.stdout.setEncoding("utf8");
  container.stdout.on("data", (d: string) => (text += d));
  return () => text;
}

test("rewritePaths replaces whole mount-path prefixes only, longest mount first", () => {
  const mappings = [
    { mountPath: "/var/log", localPath: "/tmp/a" },
    { mountPath: "/var/log/app", localPath: "/tmp/b" },
  ];
  assert.equal(rewritePaths("/var/log/x.log,/var/log/app/y.log", mappings), "/tmp/a/x.log,/tmp/b/y.log");
  assert.equal(rewritePaths("echo 1 >> /var/log/x.log", mappings), "echo 1 >> /tmp/a/x.log");
  assert.equal(rewritePaths("/var/logs/x /opt/var/log/x", mappings), "/var/logs/x /opt/var/log/x");
  assert.equal(rewritePaths("/var/log", mappings), "/tmp/a");
});

test("expandVariables follows Kubernetes $(VAR) rules: $$ escapes, unknown names stay", () => {
  assert.equal(expandVariables("$(A)-$(B)-$$(A)-$HOME", { A: "x" }), "x-$(B)-$(A)-$HOME");
});

test("resolveEnv resolves the downward API and resource limits like the kubelet", () => {
  const pod = handWrittenPod();
  const container = {
    name: "c",
    env: [
      { name: "NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
      { name: "APP", valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
      { name: "GREETING", value: "hello $(NAME)" },
      { name: "MEM_MI", valueFrom: { resourceFieldRef: { resource: "limits.memory", divisor: "1Mi" } } },
    ],
    resources: { limits: { memory: "64Mi" } },
  };
  assert.deepEqual(resolveEnv(pod, container, { cpus: 2, memoryBytes: 2 ** 30 }), {
    NAME: "counter",
    APP: "counter",
    GREETING: "hello counter",
    MEM_MI: "64",
  });
});

test("a hand-written pod runs locally: the writer's lines reach the reader's stdout through the mapped emptyDir", async () => {
  const local = prepareLocalPod(handWrittenPod());
  try {
    const app = local.startContainer("count");
    const reader = local.startContainer("count-log-1");
    const appOut = collect(app);
    const readerOut = collect(reader);
    const expected = Array.from({ length: LINES }, (_, i) => `${i + 1}\n`).join("");
    await pollUntil("the reader to print every line", async () => (readerOut() === expected ? true : undefined), {
      timeoutMs: 15_000,
      abortIf: () => (reader.hasExited() ? `reader exited: ${reader.logTail()}` : undefined),
    });
    assert.equal(appOut(), "pod counter in demo on node-1\n");
    assert.equal(readFileSync(local.localPath("count", "/var/log/1.log"), "utf8"), expected);
    assert.match(reader.argv.join(" "), new RegExp(`-F ${local.volumes.get("varlog")}/1.log$`));
    await local.cleanup();
    // Each container runs in its own process group, so the shell's `sleep` is gone too.
    for (const c of [app, reader]) assert.equal(isAlive(c.pid), false, `${c.name} (pid ${c.pid}) still running`);
  } finally {
    await local.cleanup();
  }
});

test("the tailcar sidecar runs from the image's entrypoint and streams every line the app wrote", async () => {
  assert.ok(existsSync(TAILCAR_CLI), `${TAILCAR_CLI} is missing: run npm run build first`);
  const pod = handWrittenPod();
  pod.spec!.containers[1] = {
    name: "count-log-1",
    image: "tailcar-sidecar",
    args: ["--file", "/var/log/1.log"],
    env: [{ name: "TAILCAR_CHECKPOINT_DIR", value: "/var/log/.tailcar" }],
    volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
  };
  const local = prepareLocalPod(pod);
  try {
    const sidecar = local.startContainer("count-log-1", { entrypoint: SIDECAR_ENTRYPOINT });
    const out = collect(sidecar);
    local.startContainer("count");
    const expected = Array.from({ length: LINES }, (_, i) => `${i + 1}\n`).join("");
    await pollUntil("the sidecar to print every line", async () => (out() === expected ? true : undefined), {
      timeoutMs: 15_000,
      abortIf: () => (sidecar.hasExited() ? `sidecar exited: ${sidecar.logTail()}` : undefined),
    });
    assert.deepEqual(sidecar.argv.slice(0, 3), [process.execPath, TAILCAR_CLI, "sidecar"]);
  } finally {
    await local.cleanup();
  }
});

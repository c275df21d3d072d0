// The real node's proofs at rate (issue 15, proofs 1, 4, 2's second half, 5 and 7; issue 18's glob), on one node for
// the whole file: the docs' application pod writing 1,000 lines a second with rotation by rename, read
// back through the API server and kubelet; the sidecar killed through the runtime and resuming from
// its checkpoint; an app whose files are 0600; forward-mode pods (raw and JSON) and a forward-mode Job
// shipping to a VictoriaLogs that runs inside the node's network namespace; a node-level OpenTelemetry
// Collector shipping what the sidecars print to that VictoriaLogs. Needs root and the packages
// .ci/run installs (skipped with the reason without them, failed on CI).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { leftoversOf, type RealNode } from "../../localcluster/node.ts";
import { skipReasonOrFail } from "../../localcluster/prerequisites.ts";
import { query } from "../../localcluster/backend/victorialogs.ts";
import { parseObjects, pollUntil, sleep } from "../../localcluster/harness/index.ts";
import { diagnostic, diagnostics, fileLines, numbered, sequenceReport } from "./sidecar-log-lines.ts";
import { applicationPodYAML } from "../../localcluster/webhook-process.ts";
import { startInjectingNode } from "../../localcluster/injecting-node.ts";
import { startNodeCollector, type NodeCollector } from "../../localcluster/node-collector.ts";
import { startVictoriaLogsOnNode, type NodeVictoriaLogs } from "../../localcluster/victorialogs-on-node.ts";

const run = promisify(execFile);
const skip = skipReasonOrFail();
const NAMESPACE = "proofs";
const RESTRICTED = "proofs-restricted";
/** The sidecar's default --checkpoint-interval. */
const CHECKPOINT_INTERVAL_S = 1;
/** Lines a second the app writes to each file. */
const RATE = 1000;

const ERR = /^(\d+): \S.* error$/;
const ACCESS = /^\S.* INFO (\d+) GET \/$/;

let node: RealNode | undefined;
let stopWebhook: (() => Promise<void>) | undefined;
let collector: NodeCollector | undefined;

before(async () => {
  if (skip) return;
  ({ node, stopWebhook } = await startInjectingNode({ enabled: NAMESPACE, restricted: RESTRICTED }));
});

after(async () => {
  await collector?.stop();
  await vl?.stop();
  await stopWebhook?.();
  if (node) {
    await node.stop();
    assert.deepEqual(leftoversOf(node), [], "the node left nothing behind");
  }
});

/**
 * The docs' app loop (`$i: $(date) error` and `$(date) INFO $i GET /`), made faster: `lines` lines to
 * each file at RATE a second (paced on /proc/uptime's centiseconds after every 100 lines; date taken
 * once per 100), each file renamed to `.1` every `rotateEvery` lines (0: never); then it prints how
 * long it took and sleeps.
 */
function writerScript(lines: number, rotateEvery: number): string {
  const rotate = rotateEvery > 0 ? `if [ $((i % ${rotateEvery})) -eq 0 ]; then mv /var/log/error.log /var/log/error.log.1; mv /var/log/access.log /var/log/access.log.1; fi;` : "";
  return [
    "cs() { read t _ < /proc/uptime; t=${t%.*}${t#*.}; }; cs; s=$t; i=0; d=$(date);",
    `while [ $i -lt ${lines} ]; do`,
    '  echo "$i: $d error" >> /var/log/error.log;',
    '  echo "$d INFO $i GET /" >> /var/log/access.log;',
    "  i=$((i+1));",
    `  if [ $((i % 100)) -eq 0 ]; then ${rotate} d=$(date); cs; while [ $((t - s)) -lt $((i * 100 / ${RATE})) ]; do sleep 0.02; cs; done; fi;`,
    "done;",
    'cs; echo "wrote $i lines in $((t - s)) cs"; exec sleep 3600',
  ].join("\n");
}

/** The docs' application pod with its loop replaced by writerScript; annotations added to the docs' one. */
function applicationPod(name: string, lines: number, rotateEvery: number, annotations: Record<string, string> = {}): V1Pod {
  const pod = structuredClone(parseObjects(applicationPodYAML())[0] as V1Pod);
  pod.metadata = { ...pod.metadata, name, annotations: { ...pod.metadata?.annotations, ...annotations } };
  const app = pod.spec?.containers[0] as V1Container;
  app.args = ["/bin/sh", "-c", writerScript(lines, rotateEvery)];
  return pod;
}

interface LogOptions {
  readonly previous?: boolean;
  readonly tailLines?: number;
}

const logOf = (namespace: string, pod: string, container: string, options: LogOptions = {}): Promise<string> =>
  node!.client.core.readNamespacedPodLog({ name: pod, namespace, container, ...options });

/** The number of the last file line in a container's log (-1 when none yet), read with a short tail. */
async function lastNumber(namespace: string, pod: string, container: string, pattern: RegExp): Promise<number> {
  const lines = fileLines(await logOf(namespace, pod, container, { tailLines: 20 }));
  const last = lines.at(-1);
  const m = last === undefined ? null : pattern.exec(last);
  return m?.[1] === undefined ? -1 : Number(m[1]);
}

/** "wrote N lines in C cs" from the app's own log: its measured pace. */
async function writerRate(namespace: string, pod: string): Promise<{ lines: number; seconds: number; perSecond: number }> {
  const text = await pollUntil(`the app of ${pod} to finish writing`, async () => {
    const log = await logOf(namespace, pod, "app");
    return /wrote \d+ lines/.test(log) ? log : undefined;
  }, { timeoutMs: 60_000, intervalMs: 500 });
  const m = /wrote (\d+) lines in (\d+) cs/.exec(text);
  assert.ok(m, `the app's report: ${text.slice(0, 200)}`);
  const seconds = Number(m[2]) / 100;
  return { lines: Number(m[1]), seconds, perSecond: Math.round(Number(m[1]) / seconds) };
}

const statusOf = (pod: V1Pod, container: string) =>
  [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((s) => s.name === container);

const NO_LOSS = { missing: 0, duplicates: 0, breaks: 0, unexpected: 0, firstBreaks: [] };

test("proof 1 at rate: the docs' pod writing 1,000 lines a second to two files rotated by rename every 2,000 lines; kubectl logs -c error-log / -c access-log show every line once, in order", { skip }, async () => {
  const LINES = 10_000;
  await node!.client.create(applicationPod("application", LINES, 2_000), { namespace: NAMESPACE });
  const created = Date.now();
  for (const [container, pattern] of [["error-log", ERR], ["access-log", ACCESS]] as const) {
    await pollUntil(`line ${LINES - 1} in kubectl logs application -c ${container}`, async () => ((await lastNumber(NAMESPACE, "application", container, pattern)) >= LINES - 1 ? true : undefined), {
      timeoutMs: 90_000,
      intervalMs: 1000,
    });
  }
  const allSeenMs = Date.now() - created;
  await sleep(1500); // a late duplicate would show
  const writer = await writerRate(NAMESPACE, "application");
  for (const [container, pattern] of [["error-log", ERR], ["access-log", ACCESS]] as const) {
    const numbers = numbered(fileLines(await logOf(NAMESPACE, "application", container)), pattern);
    assert.deepEqual(sequenceReport(numbers, LINES), NO_LOSS, `${container}: ${numbers.length} lines for ${LINES} written`);
  }
  process.stderr.write(`real node proofs: ${LINES} lines a file at ${writer.perSecond}/s (${writer.seconds.toFixed(1)} s, 5 rotations), all in kubectl logs ${(allSeenMs / 1000).toFixed(1)} s after pod create\n`);
});

test("a glob entry on the real node: one sidecar, kubectl logs -c logs, follows both of the docs' files rotated by rename every 1,000 lines (the rotated .1 names match the glob too); every line of each file once, in order, marked with its file's path", { skip }, async () => {
  const LINES = 5_000;
  const pod = applicationPod("globbed", LINES, 1_000, { "tailcar.io/files": "logs=/var/log/*", "tailcar.io/prefix-file-name": "true" });
  await node!.client.create(pod, { namespace: NAMESPACE });
  const byFile = async (): Promise<Map<string, string[]>> => {
    const by = new Map<string, string[]>();
    for (const line of fileLines(await logOf(NAMESPACE, "globbed", "logs"))) {
      const at = line.indexOf(": ");
      const file = line.slice(0, at);
      (by.get(file) ?? by.set(file, []).get(file)!).push(line.slice(at + 2));
    }
    return by;
  };
  await pollUntil(`line ${LINES - 1} of both files in kubectl logs globbed -c logs`, async () => {
    const by = await byFile();
    const last = (file: string, pattern: RegExp): number => Number(pattern.exec(by.get(file)?.at(-1) ?? "")?.[1] ?? -1);
    return last("/var/log/error.log", ERR) >= LINES - 1 && last("/var/log/access.log", ACCESS) >= LINES - 1 ? true : undefined;
  }, { timeoutMs: 90_000, intervalMs: 1000 });
  await sleep(1500); // a late duplicate would show
  const by = await byFile();
  assert.deepEqual([...by.keys()].sort(), ["/var/log/access.log", "/var/log/error.log"], "only the two files: no rotated .1 taken for a new file");
  assert.deepEqual(sequenceReport(numbered(by.get("/var/log/error.log")!, ERR), LINES), NO_LOSS, "error.log");
  assert.deepEqual(sequenceReport(numbered(by.get("/var/log/access.log")!, ACCESS), LINES), NO_LOSS, "access.log");
});

test("proof 4: the sidecar killed through the runtime (SIGKILL, as an OOM kill) is restarted by kubelet and resumes from its checkpoint: no line lost, duplicates within one checkpoint interval", { skip }, async () => {
  const LINES = 12_000;
  const KILL_AT = 4_000;
  const { client } = node!;
  await client.create(applicationPod("restarted", LINES, 0), { namespace: NAMESPACE });
  await pollUntil(`line ${KILL_AT} in -c error-log`, async () => ((await lastNumber(NAMESPACE, "restarted", "error-log", ERR)) >= KILL_AT ? true : undefined), {
    timeoutMs: 90_000,
    intervalMs: 250,
  });
  const before = statusOf(await client.getPod(NAMESPACE, "restarted"), "error-log");
  const id = before?.containerID?.replace(/^containerd:\/\//, "");
  assert.ok(id, `the sidecar's container id: ${JSON.stringify(before)}`);
  await run("ctr", ["--address", node!.containerdSocket, "-n", "k8s.io", "tasks", "kill", "-s", "SIGKILL", id]);
  const killed = Date.now();
  const restarted = await pollUntil(
    "kubelet to restart the error-log sidecar",
    async () => {
      const s = statusOf(await client.getPod(NAMESPACE, "restarted"), "error-log");
      return (s?.restartCount ?? 0) >= 1 && s?.state?.running ? s : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const restartMs = Date.now() - killed;
  assert.equal(restarted.lastState?.terminated?.exitCode, 137, "the first instance was killed (137)");
  await pollUntil(`line ${LINES - 1} in -c error-log after the restart`, async () => ((await lastNumber(NAMESPACE, "restarted", "error-log", ERR)) >= LINES - 1 ? true : undefined), {
    timeoutMs: 90_000,
    intervalMs: 1000,
  });
  await sleep(1500);
  const writer = await writerRate(NAMESPACE, "restarted");
  const first = numbered(fileLines(await logOf(NAMESPACE, "restarted", "error-log", { previous: true })), ERR);
  const second = numbered(fileLines(await logOf(NAMESPACE, "restarted", "error-log")), ERR);
  // Each instance's own stream is in order with nothing doubled; the second starts at or before where the first stopped.
  assert.deepEqual(sequenceReport(first, first.length), NO_LOSS, "the killed instance printed 0, 1, 2, … in order");
  const resumedAt = second[0] ?? -1;
  const fromResume = sequenceReport(second.map((n) => n - resumedAt), LINES - resumedAt);
  assert.deepEqual(fromResume, NO_LOSS, `the restarted instance printed ${resumedAt}…${LINES - 1} in order`);
  const combined = sequenceReport([...first, ...second], LINES);
  assert.equal(combined.missing, 0, `no line lost across the restart (killed after line ${first.at(-1)}, resumed at ${resumedAt})`);
  // Lines printed but not yet in the last checkpoint: at most one interval of writing, plus a margin for a sidecar running behind.
  const bound = RATE * CHECKPOINT_INTERVAL_S * 1.5;
  assert.ok(combined.duplicates <= bound, `${combined.duplicates} lines doubled, more than ${bound} (${CHECKPOINT_INTERVAL_S} s of checkpoint interval at ${RATE}/s, +50%)`);
  const access = numbered(fileLines(await logOf(NAMESPACE, "restarted", "access-log")), ACCESS);
  assert.deepEqual(sequenceReport(access, LINES), NO_LOSS, "the other sidecar went on untouched");
  process.stderr.write(
    `real node proofs: sidecar SIGKILLed after line ${first.at(-1)}, running again ${(restartMs / 1000).toFixed(1)} s later, resumed at line ${resumedAt}: 0 lost, ${combined.duplicates} doubled (writer ${writer.perSecond}/s)\n`,
  );
});

/** A busybox container of the restricted profile writing its log mode 0600 (umask 077) as `uid`. */
function privateWriter(name: string, uid: number, file: string): V1Container {
  return {
    name,
    image: "busybox:1.28",
    args: ["/bin/sh", "-c", `umask 077; i=0; while true; do echo "$i: private" >> ${file}; i=$((i+1)); [ $i -eq 1 ] && ls -ln ${file}; sleep 0.2; done`],
    securityContext: { runAsUser: uid, runAsGroup: uid, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } },
    volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
  };
}

function restrictedPod(name: string, containers: V1Container[]): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, annotations: { "tailcar.io/files": "/var/log/app.log" } },
    // No fsGroup: the files keep the writer's group, and 0600 shuts everyone else out.
    spec: { securityContext: { seccompProfile: { type: "RuntimeDefault" } }, containers, volumes: [{ name: "varlog", emptyDir: {} }] },
  };
}

test("proof 2: an app writing its files mode 0600 as its own non-root user (no fsGroup) under Pod Security restricted: the sidecar runs as that user and streams them; a sidecar given another user says EACCES in kubectl logs, never a silent empty stream", { skip }, async () => {
  const { client } = node!;
  await client.create(restrictedPod("private-files", [privateWriter("app", 1000, "/var/log/app.log")]), { namespace: RESTRICTED });
  // The first container that mounts the log volume gives the sidecar its user: here one that is not the writer.
  const idle: V1Container = { ...privateWriter("reader", 2000, "/dev/null"), args: ["/bin/sh", "-c", "exec sleep 3600"] };
  await client.create(restrictedPod("other-user", [idle, privateWriter("app", 1000, "/var/log/app.log")]), { namespace: RESTRICTED });

  const injected = await client.getPod(RESTRICTED, "private-files");
  const sidecar = injected.spec?.initContainers?.find((c) => c.name === "app-log");
  assert.equal(sidecar?.securityContext?.runAsUser, 1000, "the sidecar runs as the app's user");
  const lines = await pollUntil("5 lines in kubectl logs private-files -c app-log", async () => {
    const all = fileLines(await logOf(RESTRICTED, "private-files", "app-log"));
    return all.length >= 5 ? all : undefined;
  }, { timeoutMs: 90_000, intervalMs: 500 });
  const numbers = numbered(lines, /^(\d+): private$/);
  assert.deepEqual(numbers, numbers.map((_, i) => i));
  assert.match(await logOf(RESTRICTED, "private-files", "app"), /^-rw------- +1 1000 +1000 /m, "the app's file is mode 0600, owned by 1000");

  const other = await client.getPod(RESTRICTED, "other-user");
  assert.equal(other.spec?.initContainers?.find((c) => c.name === "app-log")?.securityContext?.runAsUser, 2000);
  const refused = await pollUntil("the sidecar's EACCES error in kubectl logs other-user -c app-log", async () => {
    const text = await logOf(RESTRICTED, "other-user", "app-log");
    return diagnostics(text).find((d) => d.level === "error" && d.reason === "EACCES") ? text : undefined;
  }, { timeoutMs: 90_000, intervalMs: 500 });
  assert.deepEqual(fileLines(refused), [], "no file line leaks through");
  const error = diagnostics(refused).find((d) => d.reason === "EACCES");
  assert.match(error?.msg ?? "", /cannot open file \(EACCES\)/);
  assert.equal(error?.file, "/var/log/app.log");
  process.stderr.write(`real node proofs: 0600 file under another user: ${JSON.stringify(error?.msg)}\n`);
});

// Both formats: the image used to start raw-format sidecars with `node --lite-mode`, which leaves
// out the WebAssembly that fetch (undici) needs, and a raw forward-mode sidecar only logged "fetch
// failed: WebAssembly is not defined" (the sidecar now keeps the flag for stdout only: sidecar/node-flags.ts).
/** One VictoriaLogs in the node's namespace for both formats' pods and the node's collector. */
let vl: NodeVictoriaLogs | undefined;
for (const format of ["raw", "json"] as const) {
  const pod = `shipper-${format}`;
  test(`proof 7: a forward-mode pod (${format} format) on the node sends both files (1,000 lines a second, rotated) to VictoriaLogs; every line is stored once, labelled with its pod and container`, { skip }, async () => {
    const LINES = 3_000;
    vl ??= await startVictoriaLogsOnNode(node!);
    const backend = vl;
    await node!.client.create(
      applicationPod(pod, LINES, 2_000, { "tailcar.io/mode": "forward", "tailcar.io/format": format, "tailcar.io/forward-sink": "loki", "tailcar.io/forward-endpoint": `${backend.podURL}/insert` }),
      { namespace: NAMESPACE },
    );
    const created = Date.now();
    const count = async () => query(backend.url, `pod:${pod} | stats by (container) count() as n`);
    await pollUntil(`VictoriaLogs to hold ${LINES} lines of each sidecar`, async () => {
      const rows = await count();
      return rows.length === 2 && rows.every((r) => Number(r.n) >= LINES) ? rows : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1000 }).catch(async (e: unknown) => {
      const said = JSON.stringify(diagnostics(await logOf(NAMESPACE, pod, "error-log", { tailLines: 1 }))).slice(0, 400);
      throw new Error(`${e instanceof Error ? e.message : String(e)}; stored: ${JSON.stringify(await count())}; error-log said: ${said}`);
    });
    const storedMs = Date.now() - created;
    await sleep(2000); // rows become searchable within about a second: a late duplicate would show
    for (const [container, pattern] of [["error-log", ERR], ["access-log", ACCESS]] as const) {
      // VictoriaLogs' Loki endpoint unpacks a JSON line into fields (the file's line is its `log`);
      // a raw line is the message itself.
      const rows = await query(backend.url, `pod:${pod} container:${container} namespace:${NAMESPACE} | fields log, _msg`);
      const numbers = numbered(rows.map((r) => r.log ?? r._msg ?? ""), pattern).sort((a, b) => a - b);
      assert.deepEqual(sequenceReport(numbers, LINES), NO_LOSS, `${container}: ${rows.length} rows for ${LINES} lines`);
    }
    const quiet = fileLines(await logOf(NAMESPACE, pod, "error-log"));
    assert.deepEqual(quiet, [], "forward mode prints no file line on stdout");
    process.stderr.write(`real node proofs: forward mode (${format}), ${LINES} lines a file stored once in VictoriaLogs ${(storedMs / 1000).toFixed(1)} s after pod create\n`);
  });
}

// What test/e2e/logs.test.ts proved with the local runner, on the node: a forward-mode pod whose app
// writes its lines and exits. kubelet then stops the native sidecars with SIGTERM, and they must
// ship what they had not sent yet and exit 0 within the grace period (a Job completes only then).
test("a forward-mode Job: the app writes 2,000 lines to each file and exits; kubelet stops the sidecars (SIGTERM), which exit 0 with every line stored once in VictoriaLogs", { skip }, async () => {
  const LINES = 2_000;
  vl ??= await startVictoriaLogsOnNode(node!);
  const backend = vl;
  const { client } = node!;
  const job = "forward-batch";
  await client.create(
    {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: job },
      spec: {
        backoffLimit: 0,
        template: {
          metadata: {
            annotations: {
              "tailcar.io/files": "/var/log/error.log,/var/log/access.log",
              "tailcar.io/mode": "forward",
              "tailcar.io/forward-sink": "loki",
              "tailcar.io/forward-endpoint": `${backend.podURL}/insert`,
            },
          },
          spec: {
            restartPolicy: "Never",
            containers: [
              {
                name: "app",
                image: "busybox:1.28",
                args: ["/bin/sh", "-c", `i=0; while [ $i -lt ${LINES} ]; do echo "$i: batch error" >> /var/log/error.log; echo "batch INFO $i GET /" >> /var/log/access.log; i=$((i+1)); done`],
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
  const started = Date.now();
  const [pod] = await client.waitForPodsOf("Job", NAMESPACE, job);
  const name = pod?.metadata?.name ?? "";
  assert.deepEqual(pod?.spec?.initContainers?.map((c) => [c.name, c.restartPolicy]), [["error-log", "Always"], ["access-log", "Always"]], "two native sidecars");
  await pollUntil(
    `Job ${job} to complete`,
    async () => {
      const j = await client.batch.readNamespacedJob({ namespace: NAMESPACE, name: job });
      const failed = j.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
      if (failed) throw new Error(`the Job failed: ${failed.reason}: ${failed.message}`);
      return j.status?.conditions?.some((c) => c.type === "Complete" && c.status === "True") ? j : undefined;
    },
    { timeoutMs: 120_000, intervalMs: 500 },
  );
  const completeMs = Date.now() - started;
  const done = await client.getPod(NAMESPACE, name);
  for (const sidecar of ["error-log", "access-log"]) {
    const terminated = done.status?.initContainerStatuses?.find((s) => s.name === sidecar)?.state?.terminated;
    assert.equal(terminated?.exitCode, 0, `${sidecar} after SIGTERM: ${JSON.stringify(terminated)}`);
  }
  // Everything was sent before the sidecars exited: no waiting beyond the store's own second.
  await sleep(2000);
  for (const [container, pattern] of [["error-log", /^(\d+): batch error$/], ["access-log", /^batch INFO (\d+) GET \/$/]] as const) {
    const rows = await query(backend.url, `pod:${name} container:${container} namespace:${NAMESPACE} | fields _msg`);
    const numbers = numbered(rows.map((r) => r._msg ?? ""), pattern).sort((a, b) => a - b);
    assert.deepEqual(sequenceReport(numbers, LINES), NO_LOSS, `${container}: ${rows.length} rows for ${LINES} lines`);
  }
  process.stderr.write(`real node proofs: forward-mode Job complete in ${(completeMs / 1000).toFixed(1)} s, sidecars exited 0, ${LINES} lines a file stored once\n`);
});

test("proof 5: a node-level OpenTelemetry Collector (the otel-collector example's configuration, reading the kubelet's pod logs directory) ships the docs' pod's lines to VictoriaLogs; every line once, attributed to the pod and to the container error-log (access-log)", { skip }, async () => {
  const LINES = 3_000;
  const POD = "collected";
  vl ??= await startVictoriaLogsOnNode(node!);
  const backend = vl;
  // Inside the node's namespace, where the collector runs, VictoriaLogs listens on its loopback too.
  collector ??= await startNodeCollector(node!, `${backend.nodeURL}/insert/opentelemetry/v1/logs`);
  await node!.client.create(applicationPod(POD, LINES, 2_000), { namespace: NAMESPACE });
  const created = Date.now();
  const rowsOf = async (container: string) =>
    query(backend.url, `"k8s.pod.name":=${POD} "k8s.container.name":=${container} | fields _msg, "k8s.namespace.name", "k8s.node.name", "k8s.pod.uid", "log.iostream"`);
  // The sidecar's own JSON diagnostics are container output too, and reach the collector with the file's lines.
  const fileMessages = (rows: Record<string, string>[]) => rows.map((r) => r._msg ?? "").filter((m) => diagnostic(m) === undefined);
  const seen = async (container: string, pattern: RegExp) => numbered(fileMessages(await rowsOf(container)), pattern).length;
  await pollUntil(`VictoriaLogs to hold ${LINES} lines of each sidecar through the collector`, async () => ((await seen("error-log", ERR)) >= LINES && (await seen("access-log", ACCESS)) >= LINES ? true : undefined), {
    timeoutMs: 90_000,
    intervalMs: 1000,
  }).catch(async (e: unknown) => {
    const counts = await query(backend.url, `"k8s.pod.name":=${POD} | stats by ("k8s.container.name") count() as n`);
    throw new Error(`${e instanceof Error ? e.message : String(e)}; stored: ${JSON.stringify(counts)}; collector said: ${collector?.process.logTail(20)}`);
  });
  const storedMs = Date.now() - created;
  await sleep(3000); // a late duplicate (a file read twice after a rotation, a retried batch) would show
  const pod = await node!.client.getPod(NAMESPACE, POD);
  for (const [container, pattern] of [["error-log", ERR], ["access-log", ACCESS]] as const) {
    const rows = await rowsOf(container);
    const numbers = numbered(fileMessages(rows), pattern).sort((a, b) => a - b);
    assert.deepEqual(sequenceReport(numbers, LINES), NO_LOSS, `${container}: ${numbers.length} file lines in ${rows.length} rows for ${LINES} lines`);
    const line = rows.find((r) => pattern.test(r._msg ?? ""));
    assert.deepEqual(
      { namespace: line?.["k8s.namespace.name"], node: line?.["k8s.node.name"], uid: line?.["k8s.pod.uid"], stream: line?.["log.iostream"] },
      { namespace: NAMESPACE, node: node!.nodeName, uid: pod.metadata?.uid, stream: "stdout" },
      `${container}: the record's attributes`,
    );
  }
  // The app's files reach the node's log directory only through the sidecars: its own output is its report.
  const appLines = (await query(backend.url, `"k8s.pod.name":=${POD} "k8s.container.name":=app | fields _msg`)).map((r) => r._msg ?? "");
  assert.deepEqual(appLines.filter((l) => ERR.test(l) || ACCESS.test(l)), [], "no file line under the app container");
  process.stderr.write(`real node proofs: node collector (OpenTelemetry filelog -> OTLP), ${LINES} lines a file stored once in VictoriaLogs ${(storedMs / 1000).toFixed(1)} s after pod create\n`);
});

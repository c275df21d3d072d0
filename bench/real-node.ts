// The real-node benchmark (issue 15's numbers): on a real kubelet + containerd node (localcluster/),
// tailcar's injected sidecars beside the Kubernetes docs' hand-written `busybox tail -F` sidecars in
// the same pod shape, measured in the same run, round after round:
//   - each sidecar container's cgroup: memory working set and CPU, idle and at 1,000 lines/s a file;
//   - pod create to the first line in `kubectl logs -c error-log` (the docs' pod as written);
//   - a line's write to its arrival in VictoriaLogs through the node's OpenTelemetry Collector
//     (manifests/examples/otel-collector's configuration);
//   - the images' sizes, unpacked and compressed;
//   - the node's OpenTelemetry Collector process itself (the node-level agent): CPU and memory idle,
//     and while it reads every sidecar's output at the rate (the model of docs/capacity.md uses it).
// Needs root and the real node's packages (as the real-node tests). Usage:
//   node bench/real-node.ts [--quick] [--write]   (a full run writes BENCHMARKS.md and bench/results/real-node.json)
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { parseObjects, pollUntil, sleep } from "../localcluster/harness/index.ts";
import { kubeletPaths } from "../localcluster/kubelet-config.ts";
import type { BuiltImage } from "../localcluster/images.ts";
import type { RealNode } from "../localcluster/node.ts";
import { realNodeUnavailable } from "../localcluster/prerequisites.ts";
import { applicationPodYAML } from "../localcluster/webhook-process.ts";
import { query } from "../localcluster/backend/victorialogs.ts";
import { startInjectingNode } from "../localcluster/injecting-node.ts";
import { startNodeCollector } from "../localcluster/node-collector.ts";
import { startVictoriaLogsOnNode, type NodeVictoriaLogs } from "../localcluster/victorialogs-on-node.ts";
import { containerCgroup, type ContainerCgroup } from "./container-cgroup.ts";
import { cpuSeconds, memory } from "./probes.ts";
import { writeJson, writeSection } from "./report.ts";
import { benchArgs } from "./tool-args.ts";
import { formatRange, percentile, summarize, type Summary } from "./stats.ts";

const { quick, write } = benchArgs("real-node");
const ROUNDS = quick ? 1 : 5;
const INJECTED = "bench";
const PLAIN = "bench-plain";
const SIDECARS = ["error-log", "access-log"] as const;
const FILES = { "error-log": "error.log", "access-log": "access.log" } as const;
const SETTLE_S = quick ? 5 : 10;
const IDLE_S = quick ? 5 : 15;
const RATE = 1000;
const RATE_S = quick ? 8 : 15;
/** CPU at rate is taken over the last part of the writing, once every tailer has caught up with its start. */
const RATE_WARMUP_S = 3;
const PROBE_RATE = 10;
/** Every sidecar container of both pods writes each of its file's lines to the runtime's log: what the node's collector reads. */
const AGENT_LINES_PER_S = RATE * 2 * 2; // two pods, two sidecars each
const AGENT_NAME = "OpenTelemetry Collector, one a node";
const PROBE_S = quick ? 5 : 15;
const PROBE_POLL_MS = 100;

const log = (line: string): void => {
  process.stderr.write(`[real-node] ${line}\n`);
};

type Kind = "tailcar" | "busybox";
const KINDS: readonly Kind[] = ["tailcar", "busybox"];
const LABEL: Record<Kind, string> = {
  tailcar: "tailcar sidecar (injected)",
  busybox: "busybox `tail -n+1 -F` sidecar (the docs' pattern, baseline)",
};

/**
 * The docs' application pod (test/golden/application.in.yaml). tailcar: as written, in a namespace
 * that opted in. busybox: the docs' own version, the annotation replaced by two busybox:1.28
 * containers running `tail -n+1 -F` on each file, with the same names, in a namespace that did not.
 */
function docsPod(kind: Kind, name: string, appScript?: string): V1Pod {
  const pod = structuredClone(parseObjects(applicationPodYAML())[0] as V1Pod);
  const annotations = { ...pod.metadata?.annotations };
  if (kind === "busybox") delete annotations["tailcar.io/files"];
  pod.metadata = { ...pod.metadata, name, annotations };
  const app = pod.spec!.containers[0] as V1Container;
  if (appScript !== undefined) app.args = ["/bin/sh", "-c", appScript];
  if (kind === "busybox") {
    for (const sidecar of SIDECARS) {
      pod.spec!.containers.push({
        name: sidecar,
        image: "busybox:1.28",
        args: ["/bin/sh", "-c", `tail -n+1 -F /var/log/${FILES[sidecar]}`],
        volumeMounts: [{ name: "varlog", mountPath: "/var/log" }],
      });
    }
  }
  return pod;
}

const namespaceOf = (kind: Kind): string => (kind === "tailcar" ? INJECTED : PLAIN);

function containerIds(pod: V1Pod): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    if (s.state?.running && s.containerID) ids[s.name] = s.containerID.replace(/^containerd:\/\//, "");
  }
  return ids;
}

async function runningPod(node: RealNode, kind: Kind, name: string): Promise<V1Pod> {
  return pollUntil(`pod ${name} with its app and sidecars running`, async () => {
    const pod = await node.client.getPod(namespaceOf(kind), name);
    const ids = containerIds(pod);
    return ["app", ...SIDECARS].every((c) => ids[c] !== undefined) ? pod : undefined;
  }, { timeoutMs: 90_000, intervalMs: 200 });
}

async function deletePod(node: RealNode, kind: Kind, name: string): Promise<void> {
  await node.client.core.deleteNamespacedPod({ name, namespace: namespaceOf(kind), gracePeriodSeconds: 0 }).catch(() => undefined);
}

/** The pod's `varlog` emptyDir on the node: the folder the app's /var/log is. */
function varlogOf(node: RealNode, pod: V1Pod): string {
  return join(kubeletPaths(node.dir).rootDir, "pods", pod.metadata!.uid!, "volumes", "kubernetes.io~empty-dir", "varlog");
}

interface Sample {
  readonly kind: Kind;
  readonly container: string;
  readonly idleWorkingSetMiB: number;
  readonly idleAnonymousMiB: number;
  readonly idleMappedFileMiB: number;
  readonly idleCpuMsPerS: number;
  readonly rateWorkingSetMiB: number;
  readonly rateCpuMsPerS: number;
}

/** The collector process over one round: CPU ms/s idle and at rate, memory MiB. */
interface AgentSample {
  readonly idleCpuMsPerS: number;
  readonly rateCpuMsPerS: number;
  readonly idleRssMiB: number;
  readonly idleAnonymousMiB: number;
  readonly rateRssMiB: number;
}

interface Probe {
  readonly kind: Kind;
  readonly latenciesMs: number[];
  readonly written: number;
  readonly arrived: number;
}

const mib = (bytes: number): number => bytes / 1024 / 1024;

/**
 * One round of the resource and latency measures: a tailcar pod and a busybox pod side by side, the
 * app idle (it creates the two files and sleeps); this process writes the files in the pods' emptyDir
 * on the node (what the app would write) so every line's write time is on one clock.
 */
async function resourceRound(node: RealNode, vl: NodeVictoriaLogs, round: number, agentPid: number): Promise<{ samples: Sample[]; probes: Probe[]; agent: AgentSample }> {
  const names: Record<Kind, string> = { tailcar: `res-tailcar-${round}`, busybox: `res-busybox-${round}` };
  const idleApp = "touch /var/log/error.log /var/log/access.log; exec sleep 3600";
  for (const kind of KINDS) await node.client.create(docsPod(kind, names[kind], idleApp), { namespace: namespaceOf(kind) });
  try {
    const pods = { tailcar: await runningPod(node, "tailcar", names.tailcar), busybox: await runningPod(node, "busybox", names.busybox) };
    const groups: { kind: Kind; container: string; cg: ContainerCgroup }[] = [];
    for (const kind of KINDS) {
      const ids = containerIds(pods[kind]);
      for (const c of SIDECARS) groups.push({ kind, container: c, cg: containerCgroup(node.netns, ids[c]!) });
    }
    await sleep(SETTLE_S * 1000);
    // Idle.
    const idle0 = groups.map((g) => g.cg.cpuNs());
    const agentIdle0 = await cpuSeconds(agentPid);
    const idleStart = performance.now();
    await sleep(IDLE_S * 1000);
    const idleSeconds = (performance.now() - idleStart) / 1000;
    const idleCpu = groups.map((g, i) => (g.cg.cpuNs() - idle0[i]!) / 1e6 / idleSeconds);
    const agentIdleCpu = ((await cpuSeconds(agentPid)) - agentIdle0) * 1000 / idleSeconds;
    const agentIdleMem = await memory(agentPid);
    const idleWs = groups.map((g) => mib(g.cg.workingSet()));
    const idleParts = groups.map((g) => g.cg.memoryParts());

    // 1,000 lines a second to each file of both pods, each line its own write.
    const fds: number[] = [];
    for (const kind of KINDS) for (const c of SIDECARS) fds.push(openSync(join(varlogOf(node, pods[kind]), FILES[c]), "a"));
    const peakWs = groups.map(() => 0);
    let cpuAtWarm: number[] | undefined;
    let agentCpuAtWarm = 0;
    let agentPeakRssKiB = 0;
    let warmAt = 0;
    const started = performance.now();
    let written = 0;
    let lastSample = 0;
    while (written < RATE * RATE_S) {
      const elapsed = (performance.now() - started) / 1000;
      const due = Math.min(RATE * RATE_S, Math.floor(elapsed * RATE));
      for (; written < due; written++) {
        const line = `${written}: ${new Date().toISOString()} error\n`;
        for (const fd of fds) writeSync(fd, line);
      }
      if (cpuAtWarm === undefined && elapsed >= RATE_WARMUP_S) {
        cpuAtWarm = groups.map((g) => g.cg.cpuNs());
        agentCpuAtWarm = await cpuSeconds(agentPid);
        warmAt = performance.now();
      }
      if (elapsed - lastSample >= 1) {
        lastSample = elapsed;
        groups.forEach((g, i) => (peakWs[i] = Math.max(peakWs[i]!, mib(g.cg.workingSet()))));
        agentPeakRssKiB = Math.max(agentPeakRssKiB, (await memory(agentPid)).rss);
      }
      await sleep(5);
    }
    const rateSeconds = (performance.now() - warmAt) / 1000;
    const rateCpu = groups.map((g, i) => (g.cg.cpuNs() - cpuAtWarm![i]!) / 1e6 / rateSeconds);
    const agentRateCpu = ((await cpuSeconds(agentPid)) - agentCpuAtWarm) * 1000 / rateSeconds;
    agentPeakRssKiB = Math.max(agentPeakRssKiB, (await memory(agentPid)).rss);
    groups.forEach((g, i) => (peakWs[i] = Math.max(peakWs[i]!, mib(g.cg.workingSet()))));
    for (const fd of fds) closeSync(fd);
    const samples = groups.map((g, i) => ({
      kind: g.kind,
      container: g.container,
      idleWorkingSetMiB: idleWs[i]!,
      idleAnonymousMiB: mib(idleParts[i]!.anonymous),
      idleMappedFileMiB: mib(idleParts[i]!.mappedFile),
      idleCpuMsPerS: idleCpu[i]!,
      rateWorkingSetMiB: peakWs[i]!,
      rateCpuMsPerS: rateCpu[i]!,
    }));

    // Let the node's collector ship what the rate left, then probe the latency.
    await sleep(5000);
    const probes = await latencyProbe(node, vl, pods, names);
    const agent: AgentSample = { idleCpuMsPerS: agentIdleCpu, rateCpuMsPerS: agentRateCpu, idleRssMiB: agentIdleMem.rss / 1024, idleAnonymousMiB: agentIdleMem.anonymous / 1024, rateRssMiB: agentPeakRssKiB / 1024 };
    return { samples, probes, agent };
  } finally {
    for (const kind of KINDS) await deletePod(node, kind, names[kind]);
  }
}

/**
 * PROBE_RATE lines a second to each pod's error.log for PROBE_S seconds, `latency-probe POD SEQ`;
 * VictoriaLogs is asked every PROBE_POLL_MS which have arrived (through the sidecar, the runtime's
 * log file and the node's collector): a line's latency is its first sighting minus its write.
 */
async function latencyProbe(node: RealNode, vl: NodeVictoriaLogs, pods: Record<Kind, V1Pod>, names: Record<Kind, string>): Promise<Probe[]> {
  const fds = KINDS.map((k) => openSync(join(varlogOf(node, pods[k]), FILES["error-log"]), "a"));
  const writtenAt = new Map<string, number>();
  const seenAt = new Map<string, number>();
  const total = PROBE_RATE * PROBE_S;
  let seq = 0;
  const started = performance.now();
  let polling = false;
  const poll = async (): Promise<void> => {
    if (polling) return;
    polling = true;
    try {
      const rows = await query(vl.url, `_time:10m "k8s.container.name":=error-log "latency-probe" | fields _msg`);
      const now = performance.now();
      for (const r of rows) {
        const key = /latency-probe (\S+ \d+)/.exec(r._msg ?? "")?.[1];
        if (key !== undefined && writtenAt.has(key) && !seenAt.has(key)) seenAt.set(key, now);
      }
    } finally {
      polling = false;
    }
  };
  let nextPoll = 0;
  while (seq < total || (seenAt.size < writtenAt.size && performance.now() - started < (PROBE_S + 15) * 1000)) {
    const elapsed = performance.now() - started;
    if (seq < total && elapsed >= (seq * 1000) / PROBE_RATE) {
      KINDS.forEach((k, i) => {
        const key = `${names[k]} ${seq}`;
        writtenAt.set(key, performance.now());
        writeSync(fds[i]!, `latency-probe ${key}\n`);
      });
      seq++;
    }
    if (elapsed >= nextPoll) {
      nextPoll = elapsed + PROBE_POLL_MS;
      void poll().catch((e: unknown) => log(`VictoriaLogs query failed: ${String(e)}`));
    }
    await sleep(5);
  }
  for (const fd of fds) closeSync(fd);
  return KINDS.map((k) => {
    const latencies: number[] = [];
    for (const [key, at] of writtenAt) if (key.startsWith(`${names[k]} `) && seenAt.has(key)) latencies.push(seenAt.get(key)! - at);
    return { kind: k, latenciesMs: latencies, written: total, arrived: latencies.length };
  });
}

/** Pod create to the first file line in `kubectl logs POD -c error-log`, the docs' pod as written. */
async function firstLineMs(node: RealNode, kind: Kind, name: string): Promise<number> {
  const started = performance.now();
  await node.client.create(docsPod(kind, name), { namespace: namespaceOf(kind) });
  try {
    await pollUntil(`the first line in kubectl logs ${name} -c error-log`, async () => {
      const text = await node.client.core.readNamespacedPodLog({ name, namespace: namespaceOf(kind), container: "error-log" });
      return /^\d+: .* error$/m.test(text) ? true : undefined;
    }, { timeoutMs: 90_000, intervalMs: 50 });
    return performance.now() - started;
  } finally {
    await deletePod(node, kind, name);
  }
}

interface ImageSize {
  readonly name: string;
  readonly layers: number;
  readonly unpackedBytes: number;
  readonly gzipBytes: number;
}

/** From the docker-archive tarball: the layers as tar (what unpacks) and gzip -6 of each (what a registry stores and a node pulls). */
function imageSize(image: BuiltImage): ImageSize {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-bench-image-"));
  try {
    execFileSync("tar", ["-xf", image.tarball, "-C", dir]);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as { Layers: string[] }[];
    let unpacked = 0;
    let gz = 0;
    for (const layer of manifest[0]!.Layers) {
      const bytes = readFileSync(join(dir, layer));
      unpacked += bytes.length;
      gz += gzipSync(bytes, { level: 6 }).length;
    }
    return { name: image.name, layers: manifest[0]!.Layers.length, unpackedBytes: unpacked, gzipBytes: gz };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Row {
  readonly name: string;
  readonly baseline: boolean;
  readonly idleWorkingSetMiB: Summary;
  readonly idleAnonymousMiB: Summary;
  readonly idleMappedFileMiB: Summary;
  readonly idleCpuMsPerS: Summary;
  readonly rateWorkingSetMiB: Summary;
  readonly rateCpuMsPerS: Summary;
  readonly firstLineS: Summary;
  readonly collectorP50Ms: Summary;
  readonly collectorP99Ms: Summary;
  readonly collectorMaxMs: number;
  readonly arrived: number;
  readonly written: number;
}

/** The node-level agent (the OpenTelemetry Collector of manifests/examples/otel-collector) as a process on the node. */
export interface NodeAgentRow {
  readonly name: string;
  /** Lines a second the runtime wrote to the node's container logs during the rate phase (every sidecar's output). */
  readonly linesPerS: number;
  readonly idleCpuMsPerS: Summary;
  readonly rateCpuMsPerS: Summary;
  readonly idleRssMiB: Summary;
  readonly idleAnonymousMiB: Summary;
  readonly rateRssMiB: Summary;
}

export interface RealNodeResults {
  readonly date: string;
  /** Lines a second to each file in the rate phase; absent from results written before it was recorded. */
  readonly rateLinesPerS?: number;
  /** Absent from results written before it was measured. */
  readonly nodeAgent?: NodeAgentRow;
  readonly quick: boolean;
  readonly cores: number;
  readonly cpuModel: string;
  readonly loadAvg: { readonly start: number; readonly end: number };
  readonly rounds: number;
  readonly rows: Row[];
  readonly images: ImageSize[];
}

export function render(x: RealNodeResults): string {
  const r = formatRange;
  const out: string[] = [];
  out.push(`## Real node${x.quick ? " (quick smoke run: not representative)" : ""}`);
  out.push("");
  out.push(
    `${x.date.slice(0, 10)}, ${x.cores} cores (${x.cpuModel}), 1-minute load average ${x.loadAvg.start.toFixed(1)} at the start and ${x.loadAvg.end.toFixed(1)} at the end (the machine is shared: compare rows within the run). \`node bench/real-node.ts\` (\`npm run bench -- --only real-node\`): a real kubelet, containerd and runc node (localcluster/), ${x.rounds} round${x.rounds > 1 ? "s" : ""}. Baseline: the Kubernetes docs' own version of the same pod, two busybox:1.28 containers running \`tail -n+1 -F\` on the two files, measured in the same rounds. Both pods run side by side; each sidecar container is a sample (two a pod a round).`,
  );
  out.push("");
  out.push(
    `Memory: the container's cgroup working set (usage − inactive file pages, as the kubelet reports it and evictions use), after ${IDLE_S} s idle and the peak while its file grows by ${RATE} lines a second (one write a line, from this process into the pod's emptyDir on the node, for ${RATE_S} s; CPU over the last ${RATE_S - RATE_WARMUP_S} s). First line: pod create to the first file line in \`GET pods/log?container=error-log\` (the docs' pod as written: a line a second; images already on the node), polled every 50 ms. Collector: ${PROBE_RATE} lines a second to each pod's error.log for ${PROBE_S} s; VictoriaLogs (in the node's network namespace) is asked every ${PROBE_POLL_MS} ms which lines it holds, so a latency is the line's first sighting minus its write (resolution about ${PROBE_POLL_MS} ms): sidecar, containerd's log file, the OpenTelemetry Collector of manifests/examples/otel-collector (filelog poll 200 ms, batch timeout 1 s) and VictoriaLogs' own flush.`,
  );
  out.push("");
  out.push(
    "What the working set holds: the container's anonymous memory (rss in memory.stat) and the file pages charged to it. cgroup v1 charges a page to the cgroup that first brought it into the page cache: the runtime's binary (Node, 112 MB), already cached when the pod starts (containerd unpacked the image, another pod ran it), is not charged to each sidecar, so the working set is close to what each pod adds. The idle breakdown below shows the anonymous and mapped-file parts.",
  );
  out.push("");
  out.push("| sidecar | working set MiB, idle | of it anonymous | mapped file MiB | at 1,000 lines/s | CPU ms/s, idle | at 1,000 lines/s | pod create → first line in kubectl logs, s | write → VictoriaLogs p50 ms | p99 ms | max ms | lines arrived / written |");
  out.push("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const row of x.rows) {
    out.push(
      `| ${row.name} | ${r(row.idleWorkingSetMiB, 1)} | ${r(row.idleAnonymousMiB, 1)} | ${r(row.idleMappedFileMiB, 1)} | ${r(row.rateWorkingSetMiB, 1)} | ${r(row.idleCpuMsPerS, 1)} | ${r(row.rateCpuMsPerS, 1)} | ${r(row.firstLineS, 2)} | ${r(row.collectorP50Ms, 0)} | ${r(row.collectorP99Ms, 0)} | ${row.collectorMaxMs.toFixed(0)} | ${row.arrived} / ${row.written} |`,
    );
  }
  if (x.nodeAgent) {
    const g = x.nodeAgent;
    out.push("");
    out.push(`The node's collector itself (${g.name}: the node-level agent, a process on the node here, so its RSS stands for a working set): CPU ${r(g.idleCpuMsPerS, 1)} ms/s idle and ${r(g.rateCpuMsPerS, 1)} ms/s while it reads the ${g.linesPerS.toLocaleString("en-US")} lines/s the four sidecars write at the rate; RSS ${r(g.idleRssMiB, 1)} MiB idle (anonymous ${r(g.idleAnonymousMiB, 1)}), peak ${r(g.rateRssMiB, 1)} MiB at the rate.`);
  }
  out.push("");
  out.push("### Images (built here without a registry: localcluster/images.ts)");
  out.push("");
  out.push("Unpacked: the layers as tar, what a node stores; compressed: each layer through Node's zlib at level 6, what a registry would store and a node pull. gzip(1) at the same level makes the sidecar's same layers 2% smaller (45.8 MB, the Images section above): the two deflate implementations differ, not the images.");
  out.push("");
  out.push("| image | layers | unpacked MB | compressed MB |");
  out.push("|---|---|---|---|");
  for (const i of x.images) out.push(`| \`${i.name}\` | ${i.layers} | ${(i.unpackedBytes / 1e6).toFixed(1)} | ${(i.gzipBytes / 1e6).toFixed(1)} |`);
  out.push("");
  out.push(
    "A Fluent Bit image (the node-level collector of manifests/examples/fluent-bit-opensearch) is not measured: this machine reaches no container registry and Debian ships no Fluent Bit image. The one figure found to cite: fluent/fluent-bit pull request 8821 (May 2024) shows its Dockerfile's production target, built from master then for linux/amd64, at 99 MB in `docker image ls` (unpacked), 60 MB of it the fluent-bit binary, before that change stripped its debug information; no compressed size is given there. It is a per-node DaemonSet image, pulled once per node, not once per pod: it is not the sidecar's alternative, busybox is.",
  );
  return out.join("\n");
}

async function main(): Promise<void> {
  const unavailable = realNodeUnavailable();
  if (unavailable !== undefined) {
    log(`skipped: ${unavailable}`);
    return;
  }
  const loadStart = loadavg()[0]!;
  const { node, stopWebhook } = await startInjectingNode({ enabled: INJECTED, restricted: `${INJECTED}-restricted` });
  let vl: NodeVictoriaLogs | undefined;
  let stopCollector: (() => Promise<void>) | undefined;
  try {
    await node.client.createNamespace(PLAIN);
    vl = await startVictoriaLogsOnNode(node);
    const collector = await startNodeCollector(node, `${vl.nodeURL}/insert/opentelemetry/v1/logs`);
    stopCollector = collector.stop;
    const agentSamples: AgentSample[] = [];
    const samples: Sample[] = [];
    const probes: Probe[] = [];
    const firstLine: Record<Kind, number[]> = { tailcar: [], busybox: [] };
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which pod goes first.
      const order = round % 2 === 0 ? KINDS : [...KINDS].reverse();
      for (const kind of order) {
        const ms = await firstLineMs(node, kind, `first-${kind}-${round}`);
        firstLine[kind].push(ms / 1000);
        log(`round ${round + 1}/${ROUNDS}: ${kind} first line ${(ms / 1000).toFixed(2)} s after create`);
      }
      const res = await resourceRound(node, vl, round, collector.process.pid);
      samples.push(...res.samples);
      agentSamples.push(res.agent);
      log(`round ${round + 1}/${ROUNDS}: node collector idle ${res.agent.idleCpuMsPerS.toFixed(1)} ms/s ${res.agent.idleRssMiB.toFixed(1)} MiB RSS; at ${AGENT_LINES_PER_S} lines/s ${res.agent.rateCpuMsPerS.toFixed(0)} ms/s ${res.agent.rateRssMiB.toFixed(1)} MiB`);
      probes.push(...res.probes);
      for (const s of res.samples) log(`round ${round + 1}/${ROUNDS}: ${s.kind} ${s.container}: idle ${s.idleWorkingSetMiB.toFixed(1)} MiB ${s.idleCpuMsPerS.toFixed(1)} ms/s; at rate ${s.rateWorkingSetMiB.toFixed(1)} MiB ${s.rateCpuMsPerS.toFixed(0)} ms/s`);
      for (const p of res.probes) log(`round ${round + 1}/${ROUNDS}: ${p.kind} → VictoriaLogs: ${p.arrived}/${p.written} lines, p50 ${p.latenciesMs.length ? percentile(p.latenciesMs, 50).toFixed(0) : "—"} ms`);
    }
    const rows: Row[] = KINDS.map((kind) => {
      const mine = samples.filter((s) => s.kind === kind);
      const ps = probes.filter((p) => p.kind === kind);
      const all = ps.flatMap((p) => p.latenciesMs);
      const perRound = (p: number) => summarize(ps.filter((x) => x.latenciesMs.length > 0).map((x) => percentile(x.latenciesMs, p)));
      return {
        name: LABEL[kind],
        baseline: kind === "busybox",
        idleWorkingSetMiB: summarize(mine.map((s) => s.idleWorkingSetMiB)),
        idleAnonymousMiB: summarize(mine.map((s) => s.idleAnonymousMiB)),
        idleMappedFileMiB: summarize(mine.map((s) => s.idleMappedFileMiB)),
        idleCpuMsPerS: summarize(mine.map((s) => s.idleCpuMsPerS)),
        rateWorkingSetMiB: summarize(mine.map((s) => s.rateWorkingSetMiB)),
        rateCpuMsPerS: summarize(mine.map((s) => s.rateCpuMsPerS)),
        firstLineS: summarize(firstLine[kind]),
        collectorP50Ms: perRound(50),
        collectorP99Ms: perRound(99),
        collectorMaxMs: all.length ? Math.max(...all) : NaN,
        arrived: ps.reduce((n, p) => n + p.arrived, 0),
        written: ps.reduce((n, p) => n + p.written, 0),
      };
    });
    const images = [node.images.sidecar, node.images.app, node.images.pause].map(imageSize);
    const results: RealNodeResults = {
      date: new Date().toISOString(),
      rateLinesPerS: RATE,
      nodeAgent: {
        name: AGENT_NAME,
        linesPerS: AGENT_LINES_PER_S,
        idleCpuMsPerS: summarize(agentSamples.map((a) => a.idleCpuMsPerS)),
        rateCpuMsPerS: summarize(agentSamples.map((a) => a.rateCpuMsPerS)),
        idleRssMiB: summarize(agentSamples.map((a) => a.idleRssMiB)),
        idleAnonymousMiB: summarize(agentSamples.map((a) => a.idleAnonymousMiB)),
        rateRssMiB: summarize(agentSamples.map((a) => a.rateRssMiB)),
      },
      quick,
      cores: cpus().length,
      cpuModel: (cpus()[0]?.model ?? "unknown").replace(/\s+\d+-Core Processor$/, "").trim(),
      loadAvg: { start: loadStart, end: loadavg()[0]! },
      rounds: ROUNDS,
      rows,
      images,
    };
    const text = render(results);
    process.stdout.write(`${text}\n`);
    if (write) {
      await writeSection("real-node", text);
      await writeJson("real-node", { ...results, samples, probes: probes.map((p) => ({ ...p, latenciesMs: undefined, p50: p.latenciesMs.length ? percentile(p.latenciesMs, 50) : null })) });
    }
  } finally {
    await stopCollector?.();
    await vl?.stop();
    await stopWebhook();
    await node.stop();
  }
}

// Run, unless imported (to re-render a results file).
if (import.meta.main) await main();

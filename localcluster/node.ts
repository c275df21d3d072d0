// A real node beside the real control plane: all of it (etcd, kube-apiserver, controller-manager,
// kube-scheduler, containerd, kubelet) in a network namespace the harness creates, pods on a CNI bridge
// inside it, images imported from the local cache. The test process talks to it through the bridge of
// netns.ts, on the same 127.0.0.1 ports. stop() removes pods, containers, mounts, cgroups, the namespace
// and the folder; a crashed run's leftovers go with the next start (node-reaper.ts).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { V1Node } from "@kubernetes/client-node";
import { findOrBuildNode, type NodeBinaries } from "./harness/build.ts";
import { issueClientCert, issueServingCert, KUBERNETES_SERVICE_IP } from "./harness/certs.ts";
import { clientFor, type TestClient } from "./harness/client.ts";
import { startControlPlane, type ControlPlane } from "./harness/control-plane.ts";
import { formatSeconds, type Log } from "./harness/go-build.ts";
import { kubeconfigYAML } from "./harness/kubeconfig.ts";
import { pollUntil } from "./harness/poll.ts";
import { startProcess, type ManagedProcess } from "./harness/processes.ts";
import { createCgroupRoot, processesUnder } from "./cgroups.ts";
import { cniConfig, containerdConfigTOML, containerdPaths } from "./containerd-config.ts";
import { findOrBuildImages, PAUSE_IMAGE, type NodeImages } from "./images.ts";
import { KUBELET_SYSCTLS, withPrivateFolders, kubeletArgs, kubeletCommand, kubeletConfigYAML, kubeletPaths } from "./kubelet-config.ts";
import { createNetns, inNetns, netnsPath, NODE_IP, routeServiceToApiserver, startBridge, type NetnsBridge } from "./netns.ts";
import { NODE_DIR_PREFIX, reapOrphanedNodes, recordNode, removeNodeLeftovers, shimsOf, type NodeRecord } from "./node-reaper.ts";
import { cniBinDir, realNodeUnavailable } from "./prerequisites.ts";

const run = promisify(execFile);

const CONTAINERD_READY_MS = 30_000;
const NODE_READY_MS = 120_000;
const PODS_GONE_MS = 45_000;

export interface RealNodeTimings {
  /** Binaries and images found or built. */
  readonly buildMs: number;
  readonly controlPlaneMs: number;
  /** From kubelet's start until the Node is Ready. */
  readonly kubeletReadyMs: number;
  /** From the start of startRealNode (after the builds) until the Node is Ready. */
  readonly nodeReadyMs: number;
}

export interface RealNode {
  readonly cp: ControlPlane;
  readonly client: TestClient;
  readonly nodeName: string;
  readonly nodeIP: string;
  readonly dir: string;
  readonly netns: string;
  readonly images: NodeImages;
  readonly binaries: NodeBinaries;
  readonly timings: RealNodeTimings;
  readonly processes: readonly ManagedProcess[];
  /** containerd's socket, for `ctr --address` (what the runtime does to a container, e.g. an OOM kill). */
  readonly containerdSocket: string;
  /** Makes a server on this process's 127.0.0.1:PORT (e.g. the webhook) reachable inside the node's namespace. */
  exposeToNode(port: number): Promise<void>;
  /** Makes a server on 127.0.0.1:PORT inside the node's namespace (e.g. a backend for pods) reachable on this process's 127.0.0.1:PORT. */
  exposeFromNode(port: number): Promise<void>;
  /** The sysctl files kubelet wrote into instead of the machine's (entry -> content). */
  sysctlsKubeletWrote(): Record<string, string>;
  stop(): Promise<void>;
}

export interface RealNodeOptions {
  readonly log?: Log;
}

function hostSysctls(): Record<string, string> {
  const values: Record<string, string> = {};
  for (const entry of Object.keys(KUBELET_SYSCTLS)) values[entry] = readFileSync(`/proc/sys/${entry}`, "utf8").trim();
  return values;
}

export async function startRealNode(options: RealNodeOptions = {}): Promise<RealNode> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const unavailable = realNodeUnavailable();
  if (unavailable !== undefined) throw new Error(unavailable);
  const cniBin = cniBinDir() ?? "";
  const buildStarted = Date.now();
  const binaries = await findOrBuildNode(log);
  const images = await findOrBuildImages(log);
  const buildMs = Date.now() - buildStarted;
  reapOrphanedNodes(log);

  const started = Date.now();
  const id = `${process.pid.toString(36)}${randomBytes(2).toString("hex")}`;
  const netns = `tailcar-${id}`;
  const nodeName = `tailcar-node-${id}`;
  const dir = mkdtempSync(join(tmpdir(), NODE_DIR_PREFIX));
  const processes: ManagedProcess[] = [];
  const paths = containerdPaths(dir, cniBin);
  const children: { pid: number; command: string }[] = [];
  const record: NodeRecord = {
    owner: process.pid,
    dir,
    netns,
    cgroupRoot: netns,
    cniNetwork: `tailcar-${id}`,
    containerdSocket: paths.socket,
    children: [],
  };
  /** `command`: what /proc/PID/cmdline starts with once nsenter (and the mount script) have exec'd it. */
  const remember = (p: ManagedProcess, command: string) => {
    processes.push(p);
    children.push({ pid: p.pid, command });
    recordNode({ ...record, children });
  };
  recordNode(record);
  // If the test process exits without stop() (an uncaught error, SIGINT), everything is removed
  // synchronously on the way out; after a SIGKILL the next run's reaper does it.
  const onExit = () => {
    removeNodeLeftovers({ ...record, children });
  };
  process.on("exit", onExit);
  let cp: ControlPlane | undefined;
  let bridge: NetnsBridge | undefined;
  let client: TestClient | undefined;

  const stop = async (): Promise<void> => {
    const stopStarted = Date.now();
    if (client !== undefined) await removeAllPods(client, paths.socket, log);
    for (const p of [...processes].reverse()) await p.stop(10_000);
    for (const pid of shimsOf(paths.socket)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone.
      }
    }
    await cp?.stop();
    await bridge?.close();
    const left = removeNodeLeftovers({ ...record, children: [] });
    process.off("exit", onExit);
    if (left.length > 0) log(`real node: teardown left: ${left.join("; ")}`);
    log(`real node: stopped in ${formatSeconds(Date.now() - stopStarted)}`);
  };

  try {
    // A shared mount: what kubelet mounts under its root dir (in its own mount namespace) reaches runc.
    await run("mount", ["--bind", dir, dir]);
    await run("mount", ["--make-shared", dir]);
    createNetns(netns);
    bridge = await startBridge(netns, dir, process.execPath);
    const inNs = (command: string, args: readonly string[]) => inNetns(netns, command, args);
    const bridgeRef = bridge;
    const cpStarted = Date.now();
    cp = await startControlPlane({
      log,
      // The node lifecycle controller lifts the not-ready taint kubelet registers with; the
      // EndpointSlices of Services are what the API server calls webhook Services at (below).
      extraControllers: ["node-lifecycle-controller", "endpointslice-controller"],
      // Pods reach the API server on the node address (routeServiceToApiserver), and the API server
      // calls a webhook Service at its pods' addresses from their EndpointSlices, without kube-proxy.
      extraApiserverArgs: ["--bind-address=0.0.0.0", `--advertise-address=${NODE_IP}`, "--enable-aggregator-routing=true"],
      network: { wrap: inNs, expose: (ports) => bridgeRef.exposeFromNetns(ports) },
    });
    const controlPlaneMs = Date.now() - cpStarted;
    client = clientFor(cp);
    routeServiceToApiserver(netns, KUBERNETES_SERVICE_IP, Number(new URL(cp.apiURL).port));

    // containerd
    for (const d of [paths.root, paths.state, paths.cniConfDir, join(dir, "cni-ipam")]) mkdirSync(d, { recursive: true });
    writeFileSync(paths.config, containerdConfigTOML(paths, PAUSE_IMAGE));
    writeFileSync(join(paths.cniConfDir, "10-tailcar.conflist"), cniConfig(join(dir, "cni-ipam")).replace(/"tailcar-node"/, JSON.stringify(record.cniNetwork)));
    // containerd 1.6 keeps shim sockets in /run/containerd/s and pod network namespaces in /run/netns
    // whatever its state dir, and libcni its results in /var/lib/cni: folders of the run cover them.
    const privateRun = join(dir, "containerd", "run");
    const privateVarLib = join(dir, "containerd", "var-lib");
    mkdirSync(privateRun, { recursive: true });
    mkdirSync(privateVarLib, { recursive: true });
    const ownFolders = withPrivateFolders([[privateRun, "/run"], [privateVarLib, "/var/lib"]], "containerd", ["--config", paths.config, "--log-level", "warn"]);
    const containerdCmd = inNs(ownFolders.command, ownFolders.args);
    const containerd = startProcess({ name: "containerd", command: containerdCmd.command, args: containerdCmd.args, logPath: join(dir, "containerd.log") });
    remember(containerd, "containerd");
    await pollUntil("containerd to serve", async () => ((await run("ctr", ["--address", paths.socket, "version"])).stdout.includes("Server") ? true : undefined), {
      timeoutMs: CONTAINERD_READY_MS,
      intervalMs: 200,
      abortIf: () => (containerd.hasExited() ? `containerd exited; last lines of its log:\n${containerd.logTail()}` : undefined),
    });
    for (const image of [images.pause, images.app, images.sidecar]) {
      await run("ctr", ["--address", paths.socket, "-n", "k8s.io", "images", "import", "--no-unpack=false", image.tarball]).catch(async () =>
        run("ctr", ["--address", paths.socket, "-n", "k8s.io", "images", "import", image.tarball]),
      );
    }

    // kubelet
    const kp = kubeletPaths(dir);
    for (const d of [kp.rootDir, kp.certDir, kp.podLogsDir, kp.volumePluginDir, join(kp.varLib, "kubelet", "device-plugins"), join(kp.varLib, "kubelet", "pod-resources"), join(kp.varLog, "containers"), kp.sysctlDir]) {
      mkdirSync(d, { recursive: true });
    }
    const host = hostSysctls();
    for (const [entry, value] of Object.entries(host)) writeFileSync(join(kp.sysctlDir, entry.replace(/\//g, ".")), `${value}\n`);
    const serving = await issueServingCert(cp.ca, { ips: [NODE_IP], dns: [nodeName], commonName: nodeName });
    const identity = await issueClientCert(cp.ca, `system:node:${nodeName}`, ["system:nodes", "system:masters"]);
    writeFileSync(kp.servingCert, serving.cert);
    writeFileSync(kp.servingKey, serving.key, { mode: 0o600 });
    writeFileSync(kp.caCert, cp.caPEM);
    writeFileSync(kp.kubeconfig, kubeconfigYAML({ server: cp.apiURL, caPEM: cp.caPEM, user: `system:node:${nodeName}`, client: identity }), { mode: 0o600 });
    createCgroupRoot(record.cgroupRoot);
    writeFileSync(kp.config, kubeletConfigYAML(kp, { nodeIP: NODE_IP, cgroupRoot: `/${record.cgroupRoot}`, containerdSocket: paths.socket }));
    const kubeletStarted = Date.now();
    const kubeletCmd = kubeletCommand(netnsPath(netns), kp, binaries.paths.kubelet, kubeletArgs(kp, nodeName, NODE_IP));
    const kubelet = startProcess({ name: "kubelet", command: kubeletCmd.command, args: kubeletCmd.args, logPath: join(dir, "kubelet.log") });
    remember(kubelet, binaries.paths.kubelet);

    // kube-scheduler: the admin kubeconfig works inside the namespace too (same address and port).
    const schedulerCmd = inNs(binaries.paths["kube-scheduler"], [
      `--kubeconfig=${cp.kubeconfigPath}`,
      `--authentication-kubeconfig=${cp.kubeconfigPath}`,
      `--authorization-kubeconfig=${cp.kubeconfigPath}`,
      "--leader-elect=false",
      "--secure-port=0",
      "--v=1",
    ]);
    const scheduler = startProcess({ name: "kube-scheduler", command: schedulerCmd.command, args: schedulerCmd.args, logPath: join(dir, "kube-scheduler.log") });
    remember(scheduler, binaries.paths["kube-scheduler"]);

    const readyClient = client;
    await pollUntil(
      `node ${nodeName} to be Ready`,
      async () => {
        const node: V1Node = await readyClient.core.readNode({ name: nodeName });
        const ready = node.status?.conditions?.find((c) => c.type === "Ready")?.status === "True";
        const tainted = (node.spec?.taints ?? []).some((t) => t.key === "node.kubernetes.io/not-ready");
        return ready && !tainted ? node : undefined;
      },
      {
        timeoutMs: NODE_READY_MS,
        intervalMs: 250,
        abortIf: () =>
          kubelet.hasExited()
            ? `kubelet exited; last lines of its log:\n${kubelet.logTail()}`
            : scheduler.hasExited()
              ? `kube-scheduler exited; last lines of its log:\n${scheduler.logTail()}`
              : undefined,
      },
    );
    const timings: RealNodeTimings = { buildMs, controlPlaneMs, kubeletReadyMs: Date.now() - kubeletStarted, nodeReadyMs: Date.now() - started };
    log(`real node: ${nodeName} Ready in ${formatSeconds(timings.nodeReadyMs)} (kubelet ${formatSeconds(timings.kubeletReadyMs)}; logs in ${dir})`);
    return {
      cp,
      client,
      nodeName,
      nodeIP: NODE_IP,
      dir,
      netns,
      images,
      binaries,
      timings,
      processes,
      containerdSocket: paths.socket,
      exposeToNode: (port) => bridgeRef.exposeToNetns(port),
      exposeFromNode: (port) => bridgeRef.exposeFromNetns([port]),
      sysctlsKubeletWrote() {
        const wrote: Record<string, string> = {};
        for (const entry of Object.keys(KUBELET_SYSCTLS)) wrote[entry] = readFileSync(join(kp.sysctlDir, entry.replace(/\//g, ".")), "utf8").trim();
        return wrote;
      },
      stop,
    };
  } catch (e) {
    await stop().catch((stopError: unknown) => log(`real node: teardown after a failed start failed too: ${String(stopError)}`));
    throw e;
  }
}

/**
 * Pods deleted at once (grace 0), then kubelet stops their sandboxes itself (CNI teardown, network
 * namespaces, mounts) while it still runs; bounded, and what is left is killed by the caller.
 */
async function removeAllPods(client: TestClient, socket: string, log: Log): Promise<void> {
  try {
    const pods = (await client.core.listPodForAllNamespaces()).items;
    await Promise.all(
      pods.map((p) =>
        client.core.deleteNamespacedPod({ name: p.metadata?.name ?? "", namespace: p.metadata?.namespace ?? "", gracePeriodSeconds: 0 }).catch(() => undefined),
      ),
    );
    await pollUntil(
      "the node's containers to stop",
      async () => {
        const { stdout } = await run("ctr", ["--address", socket, "-n", "k8s.io", "tasks", "ls", "-q"]);
        return stdout.trim() === "" ? true : undefined;
      },
      { timeoutMs: PODS_GONE_MS, intervalMs: 500 },
    );
  } catch (e) {
    log(`real node: pods not all stopped through kubelet (${e instanceof Error ? e.message.split("\n")[0] : String(e)}); killing what is left`);
  }
}

/** What a run must not leave: for tests that check after stop(). */
export function leftoversOf(node: Pick<RealNode, "dir" | "netns">): string[] {
  const left: string[] = [];
  if (existsSync(node.dir)) left.push(`folder ${node.dir}`);
  if (existsSync(netnsPath(node.netns))) left.push(`network namespace ${node.netns}`);
  if (processesUnder(node.netns).length > 0) left.push(`processes in cgroup /${node.netns}`);
  const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(node.dir));
  if (mounts.length > 0) left.push(`${mounts.length} mount(s) under ${node.dir}`);
  return left;
}

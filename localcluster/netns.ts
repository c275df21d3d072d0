// The node's network: a namespace of its own with loopback and a veth pair whose both ends stay inside
// it, one carrying the node's address (kubelet refuses a loopback node IP; this kernel has no `dummy`
// device). No route leaves it. Everything of the cluster runs inside (`nsenter --net=`, not
// `ip netns exec`, which would also give a private mount namespace whose mounts never reach runc);
// the test process reaches it through forward.ts's Unix-socket gateways.
import { execFileSync, spawn } from "node:child_process";
import type { Server } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { listenGatewayToTcp, listenTcpToGateway } from "./forward.ts";
import { manage, type ManagedProcess } from "./harness/processes.ts";
import { pollUntil } from "./harness/poll.ts";

/** Documentation ranges (RFC 5737): never routed anywhere. */
export const NODE_IP = "192.0.2.10";
export const NODE_CIDR = `${NODE_IP}/24`;
export const POD_SUBNET = "198.51.100.0/24";

export const netnsPath = (name: string): string => `/run/netns/${name}`;

const ip = (args: readonly string[]): string => execFileSync("ip", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });

export function createNetns(name: string): void {
  ip(["netns", "add", name]);
  try {
    ip(["-n", name, "link", "set", "lo", "up"]);
    ip(["-n", name, "link", "add", "node0", "type", "veth", "peer", "name", "node0-peer"]);
    ip(["-n", name, "addr", "add", NODE_CIDR, "dev", "node0"]);
    ip(["-n", name, "link", "set", "node0", "up"]);
    ip(["-n", name, "link", "set", "node0-peer", "up"]);
  } catch (e) {
    deleteNetns(name);
    throw e;
  }
}

/**
 * Pods reach the API server as in a cluster, through the `kubernetes` Service (KUBERNETES_SERVICE_HOST,
 * which kubelet gives every container), with no kube-proxy: one DNAT rule in the node's namespace
 * sends serviceIP:443, which pods route to the bridge (containerd-config.ts), to the API server on the
 * node address. The rule lives and dies with the namespace.
 */
export function routeServiceToApiserver(name: string, serviceIP: string, apiserverPort: number): void {
  ip(["netns", "exec", name, "iptables", "-t", "nat", "-A", "PREROUTING", "-d", `${serviceIP}/32`, "-p", "tcp", "--dport", "443", "-j", "DNAT", "--to-destination", `${NODE_IP}:${apiserverPort}`]);
}

export function deleteNetns(name: string): void {
  try {
    ip(["netns", "delete", name]);
  } catch {
    // Already gone.
  }
}

/** The command line that runs `command args` inside the namespace (same pid: nsenter execs). */
export function inNetns(name: string, command: string, args: readonly string[]): { command: string; args: string[] } {
  return { command: "nsenter", args: [`--net=${netnsPath(name)}`, "--", command, ...args] };
}

export interface NetnsBridge {
  readonly process: ManagedProcess;
  /** Makes 127.0.0.1:PORT inside the namespace reachable on this process's 127.0.0.1:PORT. */
  exposeFromNetns(ports: readonly number[]): Promise<void>;
  /** Makes this process's 127.0.0.1:PORT reachable on 127.0.0.1:PORT inside the namespace. */
  exposeToNetns(port: number): Promise<void>;
  close(): Promise<void>;
}

// Beside this module: forward.ts from the sources, forward.js once compiled into dist/ (the demo).
const FORWARD_SCRIPT = fileURLToPath(new URL(import.meta.url.endsWith(".ts") ? "./forward.ts" : "./forward.js", import.meta.url));

export async function startBridge(netns: string, dir: string, nodeBinary: string): Promise<NetnsBridge> {
  const inGateway = join(dir, "gateway-in.sock");
  const outGateway = join(dir, "gateway-out.sock");
  const outward = new Set<number>();
  const servers: Server[] = [await listenGatewayToTcp(outGateway, (port) => outward.has(port))];
  const spawned = inNetns(netns, nodeBinary, [FORWARD_SCRIPT, inGateway, outGateway]);
  const child = spawn(spawned.command, spawned.args, { stdio: ["pipe", "pipe", "inherit"] });
  const proc = manage(child, { name: "netns bridge", logPath: "(stdout)", command: nodeBinary });
  const replies: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (l) => replies.push(l));
  const reply = (what: string, match: (l: string) => boolean) =>
    pollUntil(what, async () => replies.find(match), { timeoutMs: 15_000, intervalMs: 20, abortIf: () => (proc.hasExited() ? "the bridge process exited" : undefined) });
  await reply("the netns bridge to start", (l) => l === "ready");
  return {
    process: proc,
    async exposeFromNetns(ports) {
      for (const port of ports) servers.push(await listenTcpToGateway(port, inGateway));
    },
    async exposeToNetns(port) {
      outward.add(port);
      child.stdin!.write(`listen ${port}\n`);
      const answer = await reply(`the netns bridge to listen on ${port}`, (l) => l === `listening ${port}` || l.startsWith(`error ${port}`));
      if (answer.startsWith("error")) throw new Error(`netns bridge: ${answer}`);
    },
    async close() {
      for (const s of servers) s.close();
      child.stdin!.end();
      await proc.stop(2_000);
    },
  };
}

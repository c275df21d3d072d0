// What the real node needs from the machine. A developer's machine without it gets one clear reason;
// CI (CI=true) installs it (.ci/run) and must run the real-node tests, so there a gap is a failure.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

export const CNI_BIN_DIRS: readonly string[] = ["/usr/lib/cni", "/opt/cni/bin"];
const CNI_PLUGINS: readonly string[] = ["bridge", "host-local", "loopback"];

const COMMANDS: readonly { command: string; from: string }[] = [
  { command: "containerd", from: "containerd" },
  { command: "containerd-shim-runc-v2", from: "containerd" },
  { command: "ctr", from: "containerd" },
  { command: "runc", from: "runc" },
  { command: "buildah", from: "buildah" },
  { command: "busybox", from: "busybox-static" },
  { command: "ip", from: "iproute2" },
  // The DNAT rule that stands in for kube-proxy for the `kubernetes` Service (netns.ts).
  { command: "iptables", from: "iptables" },
  { command: "nsenter", from: "util-linux" },
  { command: "unshare", from: "util-linux" },
  { command: "findmnt", from: "util-linux" },
];

function onPath(command: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function cniBinDir(): string | undefined {
  return CNI_BIN_DIRS.find((dir) => CNI_PLUGINS.every((p) => existsSync(`${dir}/${p}`)));
}

/** Why the real node cannot run here, or undefined when it can. */
export function realNodeUnavailable(): string | undefined {
  if (process.platform !== "linux") return `the real node needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return "the real node needs root (it creates a network namespace, cgroups and mounts)";
  const missing = COMMANDS.filter((c) => !onPath(c.command));
  const packages = [...new Set(missing.map((c) => c.from))];
  if (cniBinDir() === undefined) packages.push("containernetworking-plugins");
  if (packages.length > 0) {
    return `the real node needs ${missing.map((c) => c.command).join(", ") || "the CNI plugins"}: apt-get install ${packages.join(" ")} (.ci/run installs them)`;
  }
  return undefined;
}

/** For tests: a reason to skip, or a thrown error on CI, where skipping would hide that nothing ran. */
export function skipReasonOrFail(): string | undefined {
  const reason = realNodeUnavailable();
  if (reason !== undefined && process.env.CI === "true") throw new Error(`CI must run the real-node tests, but ${reason}`);
  return reason;
}

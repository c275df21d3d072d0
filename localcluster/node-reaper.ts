// What one real node leaves on the machine outside its folder, recorded in its folder's owner file,
// and the removal of it: by the node's own stop(), by the exit hook, or by the next run when the test
// process was killed with SIGKILL.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { removeCgroupRoot } from "./cgroups.ts";
import { deleteNetns } from "./netns.ts";
import { isAlive } from "./harness/processes.ts";

export const NODE_DIR_PREFIX = "tailcar-node-";
const OWNER_FILE = "node-owner.json";
/** libcni's cache, which containerd 1.6 does not let us move. */
const CNI_RESULTS = "/var/lib/cni/results";

export interface NodeRecord {
  readonly owner: number;
  readonly dir: string;
  readonly netns: string;
  readonly cgroupRoot: string;
  readonly cniNetwork: string;
  readonly containerdSocket: string;
  readonly children: readonly { readonly pid: number; readonly command: string }[];
}

export function recordNode(record: NodeRecord): void {
  writeFileSync(join(record.dir, OWNER_FILE), JSON.stringify(record));
}

function runs(pid: number, command: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] === command;
  } catch {
    return false;
  }
}

/** containerd's shims outlive containerd: ours name our socket on their command line. */
export function shimsOf(containerdSocket: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      if ((argv[0] ?? "").includes("containerd-shim") && argv.includes(containerdSocket)) pids.push(Number(entry));
    } catch {
      // Gone.
    }
  }
  return pids;
}

const kill = (pid: number): void => {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Gone.
  }
};

/** Mounts under `dir`, deepest first (pure: takes /proc/self/mountinfo's text). */
export function mountsUnder(mountinfo: string, dir: string): string[] {
  return mountinfo
    .split("\n")
    .map((l) => l.split(" ")[4]?.replace(/\\040/g, " "))
    .filter((m): m is string => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
}

export function unmountAll(dir: string): string[] {
  const left: string[] = [];
  for (let round = 0; round < 5; round++) {
    const mounts = mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), dir);
    if (mounts.length === 0) return [];
    for (const m of mounts) {
      try {
        execFileSync("umount", ["-l", m], { stdio: "ignore" });
      } catch {
        // Its parent went first (lazy): checked again next round.
      }
    }
  }
  left.push(...mountsUnder(readFileSync("/proc/self/mountinfo", "utf8"), dir));
  return left;
}

/** Removes everything a node recorded; returns what could not be removed (empty when clean). */
export function removeNodeLeftovers(record: NodeRecord): string[] {
  for (const child of record.children) if (runs(child.pid, child.command)) kill(child.pid);
  for (const pid of shimsOf(record.containerdSocket)) kill(pid);
  const left = removeCgroupRoot(record.cgroupRoot);
  deleteNetns(record.netns);
  if (existsSync(CNI_RESULTS)) {
    for (const f of readdirSync(CNI_RESULTS)) if (f.startsWith(`${record.cniNetwork}-`)) rmSync(join(CNI_RESULTS, f), { force: true });
  }
  left.push(...unmountAll(record.dir).map((m) => `still mounted: ${m}`));
  if (left.length === 0) rmSync(record.dir, { recursive: true, force: true });
  return left;
}

/** Removes the leftovers of nodes whose test process is gone. */
export function reapOrphanedNodes(log: (line: string) => void): number {
  let reaped = 0;
  for (const entry of readdirSync(tmpdir())) {
    if (!entry.startsWith(NODE_DIR_PREFIX)) continue;
    let record: NodeRecord;
    try {
      record = JSON.parse(readFileSync(join(tmpdir(), entry, OWNER_FILE), "utf8")) as NodeRecord;
    } catch {
      continue;
    }
    if (isAlive(record.owner)) continue;
    const left = removeNodeLeftovers(record);
    log(`real node: removed an orphaned node left by pid ${record.owner} (${record.dir})${left.length > 0 ? `; could not remove: ${left.join("; ")}` : ""}`);
    reaped++;
  }
  return reaped;
}

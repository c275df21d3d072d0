// A container's cgroup (v1, kubelet's cgroupfs driver) as the kubelet's stats see it: memory working
// set (usage minus inactive file pages, cadvisor's definition, what `kubectl top` and evictions use)
// and CPU time. The pure parsers are tested in test/bench/container-cgroup.test.ts.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import { cgroupMounts } from "../localcluster/cgroups.ts";

/** Working set in bytes from memory.usage_in_bytes and memory.stat's text (pure): usage − total_inactive_file, never below 0. */
export function workingSetBytes(usage: string, memoryStat: string): number {
  const inactive = /^total_inactive_file (\d+)$/m.exec(memoryStat)?.[1] ?? /^inactive_file (\d+)$/m.exec(memoryStat)?.[1];
  if (inactive === undefined) throw new Error("memory.stat: no total_inactive_file or inactive_file line");
  const used = Number(usage.trim());
  if (!Number.isFinite(used)) throw new Error(`memory.usage_in_bytes: ${JSON.stringify(usage.slice(0, 40))} is not a number`);
  return Math.max(0, used - Number(inactive));
}

/** A hierarchical total of memory.stat (total_NAME, else NAME for a file without totals) in bytes (pure). */
export function memoryStatField(memoryStat: string, name: string): number {
  const value = new RegExp(`^total_${name} (\\d+)$`, "m").exec(memoryStat)?.[1] ?? new RegExp(`^${name} (\\d+)$`, "m").exec(memoryStat)?.[1];
  if (value === undefined) throw new Error(`memory.stat: no total_${name} or ${name} line`);
  return Number(value);
}

/** The v1 hierarchy whose mount point's name lists `controller` (e.g. "memory", "cpuacct"), from mountinfo's text (pure). */
export function hierarchyOf(mountinfo: string, controller: string): string | undefined {
  return cgroupMounts(mountinfo).find((m) => basename(m).split(",").includes(controller));
}

function findDir(dir: string, name: string, depth: number): string | undefined {
  if (depth < 0) return undefined;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return undefined;
  }
  for (const e of entries) {
    const sub = join(dir, e);
    try {
      if (!statSync(sub).isDirectory()) continue;
    } catch {
      continue;
    }
    if (e === name) return sub;
    const found = findDir(sub, name, depth - 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

export interface ContainerCgroup {
  /** Bytes. */
  workingSet(): number;
  /** Anonymous memory (rss) and mapped file pages charged to the container, bytes. */
  memoryParts(): { readonly anonymous: number; readonly mappedFile: number };
  /** CPU nanoseconds used so far (cpuacct.usage). */
  cpuNs(): number;
}

/** The cgroup of the container with this containerd id under the node's cgroup root (kubepods/<qos>/pod<uid>/<id>). */
export function containerCgroup(cgroupRoot: string, containerId: string): ContainerCgroup {
  const mountinfo = readFileSync("/proc/self/mountinfo", "utf8");
  const memory = hierarchyOf(mountinfo, "memory");
  const cpuacct = hierarchyOf(mountinfo, "cpuacct");
  if (memory === undefined || cpuacct === undefined) throw new Error("no cgroup v1 memory and cpuacct hierarchies: the real-node bench reads them");
  const memDir = findDir(join(memory, cgroupRoot), containerId, 4);
  const cpuDir = findDir(join(cpuacct, cgroupRoot), containerId, 4);
  if (memDir === undefined || cpuDir === undefined) throw new Error(`container ${containerId}: no cgroup under /${cgroupRoot}`);
  return {
    workingSet: () => workingSetBytes(readFileSync(join(memDir, "memory.usage_in_bytes"), "utf8"), readFileSync(join(memDir, "memory.stat"), "utf8")),
    memoryParts: () => {
      const stat = readFileSync(join(memDir, "memory.stat"), "utf8");
      return { anonymous: memoryStatField(stat, "rss"), mappedFile: memoryStatField(stat, "mapped_file") };
    },
    cpuNs: () => Number(readFileSync(join(cpuDir, "cpuacct.usage"), "utf8").trim()),
  };
}

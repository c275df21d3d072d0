// The node's cgroup root: kubelet (cgroupfs driver) wants `cgroupRoot` to exist in every cgroup v1
// hierarchy already, and puts all pods under it; teardown kills what is left there and removes it.
import { existsSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

/** Mount points of the cgroup hierarchies (v1 and the unified one) from /proc/self/mountinfo's text (pure). */
export function cgroupMounts(mountinfo: string): string[] {
  const mounts: string[] = [];
  for (const line of mountinfo.split("\n")) {
    const [before, after] = line.split(" - ");
    if (before === undefined || after === undefined) continue;
    const fstype = after.split(" ")[0];
    const mountPoint = before.split(" ")[4];
    if ((fstype === "cgroup" || fstype === "cgroup2") && mountPoint !== undefined) mounts.push(mountPoint);
  }
  return mounts;
}

const hierarchies = (): string[] => cgroupMounts(readFileSync("/proc/self/mountinfo", "utf8"));

/** Creates /NAME in every hierarchy; the cpuset one needs its cpus and mems before anything can join. */
export function createCgroupRoot(name: string): void {
  for (const mount of hierarchies()) {
    const dir = join(mount, name);
    mkdirSync(dir, { recursive: true });
    for (const file of ["cpuset.cpus", "cpuset.mems"]) {
      if (existsSync(join(dir, file)) && readFileSync(join(dir, file), "utf8").trim() === "") {
        writeFileSync(join(dir, file), readFileSync(join(mount, file), "utf8"));
      }
    }
  }
}

function pidsIn(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const line of readFileSync(join(d, "cgroup.procs"), "utf8").split("\n")) if (line) pids.push(Number(line));
      for (const e of readdirSync(d)) if (statSync(join(d, e)).isDirectory()) walk(join(d, e));
    } catch {
      // Removed meanwhile.
    }
  };
  walk(dir);
  return pids;
}

/** Processes still in the node's cgroups (what teardown must kill); empty when clean. */
export function processesUnder(name: string): number[] {
  return [...new Set(hierarchies().flatMap((m) => (existsSync(join(m, name)) ? pidsIn(join(m, name)) : [])))];
}

function removeTree(dir: string): void {
  for (const e of readdirSync(dir)) {
    const sub = join(dir, e);
    if (statSync(sub).isDirectory()) removeTree(sub);
  }
  rmdirSync(dir);
}

/** Kills what is left under /NAME and removes it from every hierarchy; returns what could not be removed. */
export function removeCgroupRoot(name: string): string[] {
  for (const pid of processesUnder(name)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Gone.
    }
  }
  const left: string[] = [];
  for (const mount of hierarchies()) {
    const dir = join(mount, name);
    if (!existsSync(dir)) continue;
    // A killed process leaves its cgroup a moment later: a few tries.
    for (let attempt = 0; ; attempt++) {
      try {
        removeTree(dir);
        break;
      } catch (e) {
        if (attempt >= 50) {
          left.push(`${dir}: ${e instanceof Error ? e.message : String(e)}`);
          break;
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
    }
  }
  return left;
}

export function cgroupRootExists(name: string): boolean {
  return hierarchies().some((m) => existsSync(join(m, name)));
}

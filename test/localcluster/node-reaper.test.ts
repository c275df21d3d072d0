// A node whose test process died by SIGKILL (no exit hook ran) is removed by the next run's reaper:
// its processes, cgroup root, network namespace, mounts and folder. Needs root, like the real node.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cgroupRootExists, createCgroupRoot } from "../../localcluster/cgroups.ts";
import { createNetns, netnsPath } from "../../localcluster/netns.ts";
import { NODE_DIR_PREFIX, reapOrphanedNodes, recordNode } from "../../localcluster/node-reaper.ts";
import { skipReasonOrFail } from "../../localcluster/prerequisites.ts";

const skip = skipReasonOrFail();

test("the reaper removes an orphaned node's processes, cgroups, network namespace, mounts and folder", { skip }, async () => {
  const dir = mkdtempSync(join(tmpdir(), NODE_DIR_PREFIX));
  const id = `reap${process.pid.toString(36)}`;
  const netns = `tailcar-${id}`;
  // An owner that is gone: a process that has already exited.
  const owner = spawnSync("true").pid;
  execFileSync("mount", ["--bind", dir, dir]);
  execFileSync("mount", ["--make-shared", dir]);
  createNetns(netns);
  createCgroupRoot(netns);
  const child = spawn("nsenter", [`--net=${netnsPath(netns)}`, "--", "sleep", "300"], { stdio: "ignore", detached: true });
  const exited = new Promise<string | null>((resolve) => child.on("exit", (_code, signal) => resolve(signal)));
  assert.ok(child.pid);
  // Into the node's cgroup, as kubelet's containers are.
  execFileSync("sh", ["-c", `echo ${child.pid} > /sys/fs/cgroup/pids/${netns}/cgroup.procs`]);
  for (let i = 0; i < 50 && readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0")[0] !== "sleep"; i++) execFileSync("sleep", ["0.05"]);
  recordNode({ owner, dir, netns, cgroupRoot: netns, cniNetwork: netns, containerdSocket: join(dir, "c.sock"), children: [{ pid: child.pid, command: "sleep" }] });

  const lines: string[] = [];
  assert.ok(reapOrphanedNodes((l) => lines.push(l)) >= 1);
  assert.match(lines.join("\n"), new RegExp(`removed an orphaned node left by pid ${owner}`));
  assert.equal(await exited, "SIGKILL", "its process is killed");
  assert.equal(cgroupRootExists(netns), false, "its cgroup root is removed");
  assert.equal(existsSync(netnsPath(netns)), false, "its network namespace is removed");
  assert.equal(readFileSync("/proc/self/mountinfo", "utf8").includes(dir), false, "nothing is mounted under its folder");
  assert.equal(existsSync(dir), false, "its folder is removed");
});

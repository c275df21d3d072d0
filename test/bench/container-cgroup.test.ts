import assert from "node:assert/strict";
import { test } from "node:test";
import { hierarchyOf, memoryStatField, workingSetBytes } from "../../bench/container-cgroup.ts";

test("the working set is usage minus the inactive file pages (cadvisor's definition), never below zero", () => {
  const stat = "cache 4096\nrss 1000\ninactive_file 300\ntotal_rss 2000\ntotal_inactive_file 500\n";
  assert.equal(workingSetBytes("10000\n", stat), 9500);
  assert.equal(workingSetBytes("400\n", stat), 0);
  // A leaf cgroup's file without the hierarchical totals.
  assert.equal(workingSetBytes("1000", "inactive_file 100\n"), 900);
});

test("a memory.stat without inactive file pages or a usage that is not a number is refused by name", () => {
  assert.throws(() => workingSetBytes("10", "rss 5\n"), /total_inactive_file/);
  assert.throws(() => workingSetBytes("many", "total_inactive_file 1\n"), /usage_in_bytes: "many"/);
});

test("the v1 hierarchy of a controller is found whether it is mounted alone or with others", () => {
  const mountinfo = [
    "30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:12 - cgroup cgroup rw,memory",
    "31 25 0:27 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct",
    "32 25 0:28 / /sys/fs/cgroup/unified rw,relatime shared:14 - cgroup2 cgroup2 rw",
  ].join("\n");
  assert.equal(hierarchyOf(mountinfo, "memory"), "/sys/fs/cgroup/memory");
  assert.equal(hierarchyOf(mountinfo, "cpuacct"), "/sys/fs/cgroup/cpu,cpuacct");
  assert.equal(hierarchyOf(mountinfo, "blkio"), undefined);
});

test("memory.stat fields are read from the hierarchical totals, else from the cgroup's own line, and a missing one is named", () => {
  const stat = "rss 100\nmapped_file 7\ntotal_rss 300\ntotal_mapped_file 9\n";
  assert.equal(memoryStatField(stat, "rss"), 300);
  assert.equal(memoryStatField(stat, "mapped_file"), 9);
  assert.equal(memoryStatField("rss 100\n", "rss"), 100);
  assert.throws(() => memoryStatField(stat, "shmem"), /no total_shmem or shmem line/);
});

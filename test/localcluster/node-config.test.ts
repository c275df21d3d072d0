// The real node's configuration and plumbing that need no root: what containerd, the CNI plugin and
// kubelet are told, the parsing of ldd, mountinfo and cgroup mounts, and the bridge's gateways.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { cgroupMounts } from "../../localcluster/cgroups.ts";
import { cniConfig, containerdConfigTOML, containerdPaths } from "../../localcluster/containerd-config.ts";
import { listenGatewayToTcp, parseHeader } from "../../localcluster/forward.ts";
import { parseLdd } from "../../localcluster/images.ts";
import { KUBELET_SYSCTLS, kubeletConfigYAML, kubeletPaths, mountNamespaceScript } from "../../localcluster/kubelet-config.ts";
import { mountsUnder } from "../../localcluster/node-reaper.ts";
import { freePorts } from "../../localcluster/harness/ports.ts";

test("containerd writes only under the run's folder, restricts oom_score_adj and uses the local pause image", () => {
  const paths = containerdPaths("/tmp/run-x", "/usr/lib/cni");
  const toml = containerdConfigTOML(paths, "localhost/tailcar/pause:1");
  for (const line of toml.split("\n").filter((l) => /^\s*(root|state|address|runtime_root|path|Root|conf_dir)\s*=\s*"[^"]/.test(l))) {
    assert.match(line, /"\/tmp\/run-x\//, `under the run's folder: ${line.trim()}`);
  }
  assert.match(toml, /restrict_oom_score_adj = true/);
  assert.match(toml, /sandbox_image = "localhost\/tailcar\/pause:1"/);
  assert.match(toml, /SystemdCgroup = false/);
});

test("pods get a bridge with documentation-range addresses, no default gateway and no masquerade; their one other route is to Service ClusterIPs", () => {
  const conf = JSON.parse(cniConfig("/tmp/run-x/ipam")) as { plugins: Record<string, unknown>[] };
  const bridge = conf.plugins[0] ?? {};
  assert.equal(bridge["isDefaultGateway"], false);
  assert.equal(bridge["ipMasq"], false);
  assert.deepEqual((bridge["ipam"] as { ranges: unknown }).ranges, [[{ subnet: "198.51.100.0/24" }]]);
  assert.equal((bridge["ipam"] as { dataDir: string }).dataDir, "/tmp/run-x/ipam");
  // Only the Service range, where the node's namespace turns the `kubernetes` Service into the API server.
  assert.deepEqual((bridge["ipam"] as { routes: unknown }).routes, [{ dst: "10.0.0.0/24" }]);
});

test("kubelet's mount namespace binds a file over each sysctl it writes, after making the mounts private, then execs kubelet", () => {
  const paths = kubeletPaths("/tmp/run-x");
  const script = mountNamespaceScript(paths).split("\n");
  const firstBind = script.findIndex((l) => l.startsWith("mount --bind"));
  assert.ok(script.indexOf("mount --make-rprivate /proc") < firstBind);
  for (const entry of Object.keys(KUBELET_SYSCTLS)) assert.ok(script.some((l) => l.startsWith("mount --bind") && l.endsWith(`'/proc/sys/${entry}'`)), entry);
  assert.ok(script.some((l) => l.endsWith(" /var/lib")) && script.some((l) => l.endsWith(" /var/log")));
  assert.equal(script.at(-1), 'exec "$@"');
  const config = kubeletConfigYAML(paths, { nodeIP: "192.0.2.10", cgroupRoot: "/tailcar-x", containerdSocket: "/tmp/run-x/c.sock" });
  assert.match(config, /anonymous:\n\s+enabled: false/);
  assert.match(config, /podLogsDir: \/tmp\/run-x\/kubelet\/pod-logs/);
  assert.match(config, /readOnlyPort: 0/);
});

test("ldd's output gives the libraries with their resolved paths and the loader", () => {
  const out = `\tlinux-vdso.so.1 (0x00007ffd)\n\tlibstdc++.so.6 => /lib/x86_64-linux-gnu/libstdc++.so.6 (0x1)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)\n\t/lib64/ld-linux-x86-64.so.2 (0x3)\n`;
  assert.deepEqual(parseLdd(out), ["/lib/x86_64-linux-gnu/libstdc++.so.6", "/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"]);
});

test("cgroup hierarchies and the mounts under a folder are read from mountinfo", () => {
  const info = [
    "30 25 0:26 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory",
    "31 25 0:27 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw",
    "40 1 254:0 /tmp/run-x /tmp/run-x rw shared:5 - ext4 /dev/vda rw",
    "41 40 0:50 / /tmp/run-x/kubelet/pods/a/volumes rw shared:5 - tmpfs tmpfs rw",
    "42 1 0:51 / /tmp/run-xy rw - tmpfs tmpfs rw",
  ].join("\n");
  assert.deepEqual(cgroupMounts(info), ["/sys/fs/cgroup/memory", "/sys/fs/cgroup/unified"]);
  assert.deepEqual(mountsUnder(info, "/tmp/run-x"), ["/tmp/run-x/kubelet/pods/a/volumes", "/tmp/run-x"]);
});

test("a bridge gateway connects a stream to the port its header names, and only to a port it was opened for", async () => {
  assert.equal(parseHeader("6443"), 6443);
  assert.equal(parseHeader("0"), undefined);
  assert.equal(parseHeader("GET / HTTP/1.1"), undefined);
  const dir = mkdtempSync(join(tmpdir(), "tailcar-bridge-test-"));
  const [target = 0, other = 0] = await freePorts(2);
  const echo = createServer((s) => s.pipe(s)).listen(target, "127.0.0.1");
  const echo2 = createServer((s) => s.pipe(s)).listen(other, "127.0.0.1");
  const socket = join(dir, "gw.sock");
  const gateway = await listenGatewayToTcp(socket, (port) => port === target);
  const through = (header: number) =>
    new Promise<string>((resolve) => {
      const s = connect(socket);
      let got = "";
      s.on("data", (d: Buffer) => {
        got += d.toString();
        if (got === "ping") s.end();
      });
      s.on("close", () => resolve(got));
      s.on("error", () => resolve(got));
      s.write(`${header}\nping`);
    });
  try {
    assert.equal(await through(target), "ping");
    assert.equal(await through(other), "", "a port the gateway was not opened for gets nothing");
  } finally {
    for (const s of [echo, echo2, gateway]) s.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

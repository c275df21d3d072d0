// `npm start` end to end, on the real node (containerd, kubelet and kube-scheduler; where this machine can
// run it) and on the local runner (TAILCAR_DEMO_RUNNER=local, or a machine without containerd): the demo
// shows the injected sidecars, streams the error-log container's lines, stops by itself and leaves nothing
// behind.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import type { V1Pod } from "@kubernetes/client-node";
import { formatTable, injectedRows } from "../../demo/containers-table.ts";
import { parseDemoArgs } from "../../demo/main.ts";
import { createProgress, formatElapsed } from "../../demo/progress.ts";
import { chooseRunner } from "../../demo/runner-choice.ts";
import { cgroupRootExists } from "../../localcluster/cgroups.ts";
import { netnsPath } from "../../localcluster/netns.ts";
import { skipReasonOrFail } from "../../localcluster/prerequisites.ts";

const DEMO = fileURLToPath(new URL("../../dist/demo/main.js", import.meta.url));
const DURATION_S = 15;
const MIN_LINES = 10;

test("demo arguments: --duration takes positive seconds, anything else is named in the error", () => {
  assert.deepEqual(parseDemoArgs([]), { help: false });
  assert.deepEqual(parseDemoArgs(["--duration", "15"]), { help: false, durationSeconds: 15 });
  assert.deepEqual(parseDemoArgs(["--duration=2.5", "-h"]), { help: true, durationSeconds: 2.5 });
  assert.throws(() => parseDemoArgs(["--duration", "0"]), /--duration: "0" is not a positive number/);
  assert.throws(() => parseDemoArgs(["--duration", "-1"]), /--duration: "-1" is not a positive number/);
  assert.throws(() => parseDemoArgs(["--duration"]), /--duration needs a value/);
  assert.throws(() => parseDemoArgs(["--fast"]), /unknown option "--fast"/);
  assert.throws(() => parseDemoArgs(["--durations", "5"]), /unknown option "--durations": did you mean --duration\?/);
  assert.throws(() => parseDemoArgs(["15"]), /unexpected argument "15"/);
});

test("the runner: the real node when it can run, else the local runner with one line naming why and how to get the real node", () => {
  const node = chooseRunner({}, undefined);
  assert.equal(node.kind, "node");
  assert.match(node.line, /^real node: containerd, kubelet and kube-scheduler run the pod .*TAILCAR_DEMO_RUNNER=local/);
  const missing = chooseRunner({}, "the real node needs containerd, runc: apt-get install containerd runc (.ci/run installs them)");
  assert.deepEqual(missing, { kind: "local", line: "local runner (no kubelet): the real node needs containerd, runc: apt-get install containerd runc (.ci/run installs them)" });
  assert.match(chooseRunner({}, "the real node needs root (it creates a network namespace, cgroups and mounts)").line, /needs root .*; run npm start as root for it$/);
  const forced = chooseRunner({ TAILCAR_DEMO_RUNNER: "local" }, undefined);
  assert.equal(forced.kind, "local");
  assert.match(forced.line, /^local runner: TAILCAR_DEMO_RUNNER=local asked for it; unset it to use the real node/);
  assert.equal(chooseRunner({ TAILCAR_DEMO_RUNNER: "node" }, undefined).kind, "node");
  for (const c of [node, missing, forced]) assert.doesNotMatch(c.line, /\n/, "one line");
});

test("the injected-containers table lists each sidecar of tailcar.io/status with its kind, file and image", () => {
  const sidecar = (name: string, file: string) => ({ name, image: "tailcar-sidecar:1", env: [{ name: "TAILCAR_FILES", value: file }] });
  const pod: V1Pod = {
    metadata: { annotations: { "tailcar.io/status": '{"version":"0.1.0","containers":["error-log","access-log"]}' } },
    spec: {
      initContainers: [{ ...sidecar("error-log", "/var/log/error.log"), restartPolicy: "Always" }],
      containers: [{ name: "app" }, sidecar("access-log", "/var/log/access.log")],
    },
  };
  assert.equal(
    formatTable(injectedRows(pod)),
    [
      "CONTAINER   KIND     FILE                 IMAGE",
      "error-log   native   /var/log/error.log   tailcar-sidecar:1",
      "access-log  classic  /var/log/access.log  tailcar-sidecar:1",
      "",
    ].join("\n"),
  );
  assert.deepEqual(injectedRows({ metadata: {}, spec: { containers: [{ name: "app" }] } }), []);
});

test("progress lines are numbered and carry the elapsed time; a failure names its step", () => {
  let out = "";
  let clock = 1_000;
  const progress = createProgress(6, (t) => (out += t), () => clock);
  progress.step("building control plane");
  clock += 75_500;
  progress.step("starting");
  progress.fail("Go is required");
  assert.equal(out, "[1/6] building control plane… (0.0 s)\n[2/6] starting… (1 min 16 s)\n\n[2/6] starting failed after 1 min 16 s:\nGo is required\n");
  assert.equal(formatElapsed(12_340), "12.3 s");
});

test("without Go, containerd or built binaries, the demo says in one line why it falls back to the local runner, then names the failing step and says what to install", { timeout: 60_000 }, async () => {
  assert.ok(existsSync(DEMO), `${DEMO} is missing: run npm run build first`);
  const empty = mkdtempSync(join(tmpdir(), "tailcar-demo-nogo-"));
  try {
    const env: NodeJS.ProcessEnv = { PATH: empty, XDG_CACHE_HOME: empty, HOME: empty };
    const child = spawn(process.execPath, [DEMO], { stdio: ["ignore", "pipe", "pipe"], env });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdout.resume();
    const killer = setTimeout(() => child.kill("SIGKILL"), 50_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    clearTimeout(killer);
    assert.equal(code, 1, stderr);
    // An empty PATH hides containerd (and everything else): the fallback's reason, on the first line.
    const [first = "", second = ""] = stderr.split("\n");
    assert.match(first, process.getuid?.() === 0 ? /^local runner \(no kubelet\): the real node needs containerd, .*: apt-get install containerd / : /^local runner \(no kubelet\): the real node needs /, stderr);
    assert.match(second, /^\[1\/6\] control plane binaries/, stderr);
    assert.match(stderr, /^\[1\/6\] control plane binaries: .* failed after [\d.]+ s:$/m, stderr);
    assert.match(stderr, /Go is required to build the control plane: `go` was not found on PATH\. Install Go/);
    assert.doesNotMatch(stderr, /^\[2\/6\]/m);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

/** Running, not a zombie: an orphan's zombie stays until PID 1 reaps it, and some container inits never do. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** Every process below `root` (by parent pid), from /proc. */
function descendants(root: number): Map<number, string> {
  const parents = new Map<number, number>();
  const commands = new Map<number, string>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // The command name is in parentheses and may contain spaces: the ppid follows the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parents.set(Number(entry), ppid);
      commands.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, "utf8").replaceAll("\0", " ").trim());
    } catch {
      // Gone meanwhile.
    }
  }
  const found = new Map<number, string>();
  const queue = [root];
  for (let i = 0; i < queue.length && i < 10_000; i++) {
    for (const [pid, ppid] of parents) {
      if (ppid === queue[i] && !found.has(pid)) {
        found.set(pid, commands.get(pid) ?? "");
        queue.push(pid);
      }
    }
  }
  return found;
}

const realNodeSkip = skipReasonOrFail();

for (const runner of ["node", "local"] as const) {
  const onNode = runner === "node";
  const title = onNode
    ? `npm start's demo on the real node, --duration ${DURATION_S}: kubelet runs the injected pod, kubectl logs -f streams error-log through the API server and kubelet, exit 0, no process, folder, netns or mount left`
    : `npm start's demo on the local runner (TAILCAR_DEMO_RUNNER=local), --duration ${DURATION_S}: shows the injected sidecars, streams error-log lines, exits 0 and leaves nothing running`;
  test(title, { timeout: 15 * 60_000, skip: onNode ? realNodeSkip : false }, async () => {
    assert.ok(existsSync(DEMO), `${DEMO} is missing: run npm run build first`);
    const env: NodeJS.ProcessEnv = { ...process.env, TAILCAR_DEMO_RUNNER: onNode ? "" : "local" };
    const child = spawn(process.execPath, [DEMO, "--duration", String(DURATION_S)], { stdio: ["ignore", "pipe", "pipe"], env });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const seen = new Map<number, string>();
    // Sample the demo's process tree while it streams (control plane, webhook, the pod's processes or the node's).
    const sampler = setInterval(() => {
      if (child.pid !== undefined && /^\d+: .* error$/m.test(stdout)) for (const [pid, cmd] of descendants(child.pid)) seen.set(pid, cmd);
    }, 1_000);
    const killer = setTimeout(() => child.kill("SIGKILL"), 14 * 60_000);
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    clearInterval(sampler);
    clearTimeout(killer);
    const context = `\n--- stderr:\n${stderr}\n--- stdout:\n${stdout.slice(0, 3000)}`;

    assert.equal(code, 0, `demo exit code${context}`);
    assert.match(stderr.split("\n")[0] ?? "", onNode ? /^real node: / : /^local runner: TAILCAR_DEMO_RUNNER=local asked for it/, context);
    const image = onNode ? "localhost/tailcar/sidecar:e2e" : "\\S+";
    assert.match(stdout, new RegExp(`^error-log\\s+native\\s+/var/log/error\\.log\\s+${image}$`, "m"), `no error-log row${context}`);
    assert.match(stdout, new RegExp(`^access-log\\s+native\\s+/var/log/access\\.log\\s+${image}$`, "m"), `no access-log row${context}`);
    const lines = stdout.split("\n").filter((l) => /^\d+: .* error$/.test(l));
    assert.ok(lines.length >= MIN_LINES, `only ${lines.length} error-log lines${context}`);
    // In order, from the first line the app wrote, none missing.
    lines.forEach((line, i) => assert.ok(line.startsWith(`${i}: `), `line ${i} is "${line}"`));
    for (const step of [1, 2, 3, 4, 5, 6]) assert.match(stderr, new RegExp(`^\\[${step}/6\\] .*… \\(\\d`, "m"));
    if (onNode) assert.match(stderr, /^\[6\/6\] kubectl logs -f application -c error-log: the log API with follow=true, through the API server and kubelet/m);
    assert.match(stderr, /nothing left running/);

    const processNames = [...seen.values()].join("\n");
    const expected = onNode ? ["etcd", "kube-apiserver", "webhook", "containerd", "kubelet", "kube-scheduler"] : ["etcd", "kube-apiserver", "webhook", "sidecar", "sleep"];
    for (const name of expected) assert.ok(processNames.includes(name), `no ${name} process seen while streaming:\n${processNames}`);
    const alive = [...seen].filter(([pid]) => isRunning(pid));
    assert.deepEqual(alive, [], "processes of the demo still running after it exited");
    const dir = /logs in (\S+)\)/.exec(stderr)?.[1];
    assert.ok(dir && !existsSync(dir), `the control plane's folder ${dir} is still there`);
    if (onNode) {
      const node = /real node: tailcar-node-(\w+) Ready in .*logs in (\S+)\)/.exec(stderr);
      assert.ok(node?.[1] && node[2], `no "real node: … Ready" line${context}`);
      assert.ok(!existsSync(node[2]), `the node's folder ${node[2]} is still there`);
      assert.ok(!existsSync(netnsPath(`tailcar-${node[1]}`)), `network namespace tailcar-${node[1]} is still there`);
      assert.ok(!cgroupRootExists(`tailcar-${node[1]}`), `cgroup tailcar-${node[1]} is still there`);
      const mounts = readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter((l) => l.includes(node[2] ?? "?"));
      assert.deepEqual(mounts, [], "mounts under the node's folder");
    }
  });
}

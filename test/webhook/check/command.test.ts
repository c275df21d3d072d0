// `tailcar check` as a user runs it (the built CLI: npm run build first): offline on manifests, its
// command line, and a cluster it cannot reach.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createServer, type AddressInfo } from "node:net";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePorts } from "../../../localcluster/harness/ports.ts";

const CLI = fileURLToPath(new URL("../../../dist/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tailcar-check-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function tailcar(args: readonly string[], input = ""): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "check", ...args], { input, encoding: "utf8", timeout: 30_000, env: { ...process.env, KUBECONFIG: join(dir, "none") } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const GOOD = `apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    tailcar.io/files: /var/log/app/app.log
spec:
  securityContext: {runAsUser: 1000}
  containers:
    - name: app
      volumeMounts: [{name: logs, mountPath: /var/log/app}]
  volumes: [{name: logs, emptyDir: {}}]
`;

test("tailcar check -f on a sound manifest prints a checklist of ✓ and exits 0, without a cluster", () => {
  const file = join(dir, "good.yaml");
  writeFileSync(file, GOOD);
  const r = tailcar(["-f", file]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^tailcar check: manifests \(offline\)\n\nPod\/web \(.*good\.yaml\)\n {2}✓ \/var\/log\/app\/app\.log: followed by sidecar app-log\n/);
  assert.match(r.stdout, /no problems, 0 warnings, 3 passed, 0 skipped/);
});

test("tailcar check -f - with a user mismatch exits 1, and --output json carries the fix", () => {
  const bad = GOOD.replace("  volumes:", "    - name: logger\n      securityContext: {runAsUser: 2000}\n      volumeMounts: [{name: logs, mountPath: /var/log/app}]\n  volumes:");
  const r = tailcar(["-f", "-", "-o", "json"], bad);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  const access = (JSON.parse(r.stdout) as { checks: { id: string; status: string; fix?: string }[] }).checks.find((c) => c.id === "file-access" && c.status === "fail");
  assert.match(access?.fix ?? "", /fsGroup/);
});

test("a wrong command line exits 2 naming the problem: an unknown flag, pod without a name, -f with -n; --help exits 0", () => {
  for (const [args, message] of [[["--nope"], /unknown option "--nope"/], [["pod"], /pod needs a NAME/], [["-f", "x.yaml", "-n", "shop"], /give either -f FILE/], [["-o", "yaml"], /--output: "yaml"/]] as const) {
    const r = tailcar(args);
    assert.equal(r.status, 2, args.join(" "));
    assert.match(r.stderr, message);
  }
  const help = tailcar(["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: tailcar check \[pod NAME\] \[options\]/);
  assert.match(help.stdout, /--request-timeout DURATION/);
});

test("an unreadable manifest or YAML that does not parse exits 1 with the file named; no cluster configured exits 1 saying so", () => {
  const missing = tailcar(["-f", join(dir, "absent.yaml")]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /^tailcar check: .*absent\.yaml/);
  writeFileSync(join(dir, "broken.yaml"), "a: [\n");
  const broken = tailcar(["-f", join(dir, "broken.yaml")]);
  assert.equal(broken.status, 1);
  assert.match(broken.stderr, /broken\.yaml: document 1/);
  const none = tailcar([]);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /^tailcar check: /);
});

const kubeconfigFor = (port: number): string => {
  const file = join(dir, `api-${port}.kubeconfig`);
  writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:${port}'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
  return file;
};

test("an API server that refuses connections fails the first read as a check, naming the error; exit 1", async () => {
  const [port = 0] = await freePorts(1);
  const r = tailcar(["--kubeconfig", kubeconfigFor(port)]);
  assert.equal(r.status, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /✗ could not read MutatingWebhookConfiguration tailcar: .*ECONNREFUSED/);
});

test("an API server that accepts but never answers fails the first read within --request-timeout; exit 1", { timeout: 40_000 }, async () => {
  // Connections are accepted and left silent: the TLS handshake never completes.
  const silent = createServer(() => {});
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  try {
    const port = (silent.address() as AddressInfo).port;
    const started = Date.now();
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [CLI, "check", "--kubeconfig", kubeconfigFor(port), "--request-timeout", "2s"], { stdio: ["ignore", "pipe", "pipe"] });
      // Bounded here too: without the timeout it would wait as long as the server keeps silent.
      setTimeout(() => child.kill("SIGKILL"), 30_000).unref();
      let stdout = "";
      child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      child.on("exit", (code) => resolve({ code, stdout }));
    });
    assert.equal(r.code, 1, r.stdout);
    assert.match(r.stdout, /✗ could not read MutatingWebhookConfiguration tailcar: no answer within --request-timeout/);
    assert.ok(Date.now() - started < 15_000, `took ${Date.now() - started} ms`);
  } finally {
    silent.close();
  }
});

test("pod NAME may come before or after the options, as with kubectl; a value that reads pod is an option's value", async () => {
  const { parseCheckArgs } = await import("../../../webhook/check/command.ts");
  assert.equal(parseCheckArgs(["pod", "web", "-n", "shop"]).pod, "web");
  assert.equal(parseCheckArgs(["-n", "shop", "--output", "json", "pod", "web"]).pod, "web");
  const valued = parseCheckArgs(["-n", "pod"]);
  assert.equal(valued.pod, undefined);
  assert.equal(valued.namespace, "pod");
  assert.throws(() => parseCheckArgs(["-o", "json", "pod"]), /pod needs a NAME/);
});

test("--context picks a context of the kubeconfig; one it does not have exits 1 naming those it has", async () => {
  const [port = 0] = await freePorts(1);
  const file = join(dir, "two.kubeconfig");
  writeFileSync(file, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:${port}'}}, {name: d, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: d, user: u}}, {name: y, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
  const picked = tailcar(["--kubeconfig", file, "--context", "y"]);
  assert.equal(picked.status, 1);
  assert.match(picked.stdout, new RegExp(`^tailcar check: context y \\(https://127\\.0\\.0\\.1:${port}\\)`));
  const wrong = tailcar(["--kubeconfig", file, "--context", "z"]);
  assert.equal(wrong.status, 1);
  assert.match(wrong.stderr, /--context z: no such context in the kubeconfig \(it has x, y\)/);
});

// Runs the built CLI (npm test builds first; run `npm run build` before running this file alone).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments, stringify } from "yaml";
import { loadGoldenCases, type GoldenCase } from "../golden/fixtures.ts";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tailcar-inject-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function tailcar(args: readonly string[], input: string | Buffer = ""): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "inject", ...args], { input, encoding: "utf8", timeout: 20_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function documents(text: string): unknown[] {
  return parseAllDocuments(text).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as unknown;
  });
}

function label(c: GoldenCase): string {
  const meta = c.input.metadata ?? {};
  return `Pod/${meta.name ?? `${meta.generateName}*`}`;
}

// Golden cases grouped by their flags, each group as one multi-document stream on stdin.
const groups = new Map<string, GoldenCase[]>();
for (const c of loadGoldenCases()) {
  const key = JSON.stringify(c.cliArgs);
  groups.set(key, [...(groups.get(key) ?? []), c]);
}

for (const [key, cases] of groups) {
  test(`tailcar inject ${JSON.parse(key).join(" ")} on stdin gives the golden pods and warnings (${cases.map((c) => c.name).join(", ")})`, () => {
    const input = cases.map((c) => stringify(c.input)).join("---\n");
    const r = tailcar(["-f", "-", ...(JSON.parse(key) as string[])], input);
    assert.equal(r.status, 0, r.stderr);
    const out = documents(r.stdout);
    assert.equal(out.length, cases.length);
    cases.forEach((c, i) => {
      assert.ok(c.expected, `${c.name}.out.yaml is missing`);
      assert.deepEqual(out[i], c.expected.pod, c.name);
      for (const w of c.expected.warnings) assert.ok(r.stderr.includes(`warning: ${label(c)}: ${w}\n`), `${c.name}: missing warning ${w}\n${r.stderr}`);
    });
  });
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {tailcar.io/files: /var/log/nginx/access.log}
    spec:
      containers: [{name: nginx, image: nginx, volumeMounts: [{name: logs, mountPath: /var/log/nginx}]}]
      volumes: [{name: logs, emptyDir: {}}]
`;
const service = `apiVersion: v1
kind: Service
metadata: {name: web, annotations: {tailcar.io/files: /var/log/x.log}}
spec: {ports: [{port: 80}]}
`;
const cronJob = `apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 0 * * *"
  jobTemplate:
    spec:
      template:
        metadata: {annotations: {tailcar.io/files: /out/job.log}}
        spec:
          restartPolicy: Never
          containers: [{name: job, image: busybox, volumeMounts: [{name: out, mountPath: /out}]}]
          volumes: [{name: out, emptyDir: {}}]
`;
const list = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings}
    data: {a: "1"}
  - apiVersion: v1
    kind: Pod
    metadata: {name: listed, annotations: {tailcar.io/files: /var/log/app.log}}
    spec:
      containers: [{name: app, image: busybox, volumeMounts: [{name: logs, mountPath: /var/log}]}]
      volumes: [{name: logs, emptyDir: {}}]
  - apiVersion: batch/v1
    kind: Job
    metadata: {name: once}
    spec:
      template:
        metadata: {annotations: {tailcar.io/files: /var/log/job.log}}
        spec:
          restartPolicy: Never
          containers: [{name: job, image: busybox, volumeMounts: [{name: logs, mountPath: /var/log}]}]
          volumes: [{name: logs, emptyDir: {}}]
`;

// Test-only: parsed YAML navigated by hand; a wrong path fails the assertion that uses it.
type Json = Record<string, any>;

test("tailcar inject -f reads several files and injects workload templates; other kinds pass through untouched", () => {
  const a = join(dir, "a.yaml");
  const b = join(dir, "b.yaml");
  writeFileSync(a, `${deployment}---\n${service}`);
  writeFileSync(b, `${cronJob}---\n${list}`);
  const r = tailcar(["-f", a, "--filename", b, "--sidecar-mode", "classic"]);
  assert.equal(r.status, 0, r.stderr);
  const [dep, svc, cron, lst] = documents(r.stdout) as Json[];
  const template = dep!.spec.template;
  assert.deepEqual(template.spec.containers.map((c: Json) => c.name), ["nginx", "access-log"]);
  assert.deepEqual(JSON.parse(template.metadata.annotations["tailcar.io/status"]).containers, ["access-log"]);
  assert.equal(dep!.metadata.annotations, undefined, "the status goes on the template, not the Deployment");
  assert.deepEqual(svc, parse(service));
  const jobPod = cron!.spec.jobTemplate.spec.template;
  assert.deepEqual(jobPod.spec.containers.map((c: Json) => c.name), ["job", "job-log"]);
  assert.deepEqual(lst!.items[0], parse(list).items[0]);
  assert.deepEqual(lst!.items[1].spec.containers.map((c: Json) => c.name), ["app", "app-log"]);
  assert.deepEqual(lst!.items[2].spec.template.spec.containers.map((c: Json) => c.name), ["job", "job-log"]);
});

test("tailcar inject: native sidecars by default, as init containers with restartPolicy Always", () => {
  const r = tailcar(["-f", "-"], cronJob);
  assert.equal(r.status, 0, r.stderr);
  const [cron] = documents(r.stdout) as Json[];
  const spec = cron!.spec.jobTemplate.spec.template.spec;
  assert.deepEqual(spec.initContainers.map((c: Json) => [c.name, c.restartPolicy]), [["job-log", "Always"]]);
  assert.deepEqual(spec.containers.map((c: Json) => c.name), ["job"]);
});

test("tailcar inject: warnings name the object; re-injecting its own output changes nothing", () => {
  const first = tailcar(["-f", "-", "--image", "example.com/sidecar:1"], `${deployment.replace("access.log}", "access.log, tailcar.io/fomat: json}")}`);
  assert.equal(first.status, 0, first.stderr);
  assert.match(first.stderr, /^warning: Deployment\/web: unknown annotation "tailcar\.io\/fomat": did you mean "tailcar\.io\/format"\?$/m);
  assert.match(first.stdout, /image: example\.com\/sidecar:1/);
  const second = tailcar(["-f", "-", "--image", "example.com/sidecar:1"], first.stdout);
  assert.equal(second.status, 0, second.stderr);
  assert.deepEqual(documents(second.stdout), documents(first.stdout));
  assert.match(second.stderr, /Deployment\/web: not injected: the pod already carries the tailcar\.io\/status annotation/);
});

test("tailcar inject: unparsable YAML exits 1 naming the input, document number and line, after writing the documents before it", () => {
  const r = tailcar(["-f", "-"], `${service}---\nkind: Pod\nmetadata: [unclosed\n`);
  assert.equal(r.status, 1);
  assert.deepEqual(documents(r.stdout), [parse(service)]);
  assert.match(r.stderr, /^tailcar inject: <stdin>: document 2: line 8, column 1: \S/);
});

test("tailcar inject: a missing file exits 1 naming the file", () => {
  const missing = join(dir, "missing.yaml");
  const r = tailcar(["-f", missing]);
  assert.equal(r.status, 1);
  assert.equal(r.stderr, `tailcar inject: cannot read ${missing}: no such file\n`);
});

test("tailcar inject: usage errors exit 2 with the problem; --help exits 0", () => {
  const none = tailcar([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^tailcar inject: no input: give -f FILE/);
  const bad = tailcar(["-f", "-", "--sidecar-mode", "sometimes"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^tailcar inject: --sidecar-mode: "sometimes" is not one of native, classic, auto/);
  const image = tailcar(["-f", "-", "--image", "bad image"]);
  assert.equal(image.status, 2);
  assert.match(image.stderr, /^tailcar inject: --image: "bad image" is not an image reference/);
  const tag = tailcar(["-f", "-", "--image=repo:"]);
  assert.equal(tag.status, 2);
  assert.match(tag.stderr, /^tailcar inject: --image: "repo:" is not an image reference/);
  const max = tailcar(["-f", "-", "--max-sidecars-per-pod", "0"]);
  assert.equal(max.status, 2);
  assert.match(max.stderr, /^tailcar inject: --max-sidecars-per-pod: "0" is not a whole number from 1 to 100/);
  const unknown = tailcar(["--frobnicate"]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown option "--frobnicate"/);
  const help = tailcar(["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: tailcar inject -f FILE\|-/);
});

test("tailcar inject: an empty input gives an empty output and a warning", () => {
  for (const input of ["", "# only a comment\n", "---\n---\n"]) {
    const r = tailcar(["-f", "-"], input);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, "");
    assert.equal(r.stderr, "warning: <stdin>: no Kubernetes objects in the input\n", JSON.stringify(input));
  }
});

test("tailcar inject: a directory exits 1 saying so", () => {
  const r = tailcar(["-f", dir]);
  assert.equal(r.status, 1);
  assert.equal(r.stdout, "");
  assert.equal(r.stderr, `tailcar inject: cannot read ${dir}: is a directory (give the manifests in it, e.g. -f DIR/*.yaml)\n`);
});

const pod = `apiVersion: v1
kind: Pod
metadata: {name: p, annotations: {tailcar.io/files: /var/log/a.log}}
spec: {containers: [{name: app, image: busybox}]}
`;

// Input that is not a stream of Kubernetes objects: each is refused (exit 1), naming the document,
// after the documents before it (here the pod) have been written.
const NOT_MANIFESTS: readonly [string, Buffer, RegExp][] = [
  ["bytes that are not UTF-8", Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10]), /^document 1: line 1, column 1: byte 0 is not UTF-8 text/],
  ["a gzip header", Buffer.from([0x1f, 0x8b, 0x08, 0x00]), /^document 1: line 1, column 1: character U\+001F is not allowed in YAML/],
  ["a NUL in a value", Buffer.from("kind: Pod\nmetadata: {name: a\0b}\n"), /^document 1: line 2, column 19: character U\+0000 is not allowed in YAML/],
  ["an escape character", Buffer.from("kind: Pod\nx: \x1b[31m\n"), /^document 1: line 2, column 4: character U\+001B/],
  ["a pod, then bytes that are not UTF-8", Buffer.concat([Buffer.from(`${pod}---\nkind: `), Buffer.from([0xc3, 0x28])]), /^document 2: line 6, column 7: byte \d+ is not UTF-8 text/],
  ["a UTF-8 character cut at the end", Buffer.from([...Buffer.from("kind: Pod\nname: caf"), 0xc3]), /^document 1: line 2, column 10: the input ends inside a UTF-8 character/],
  ["plain text", Buffer.from("hello world\n"), /^document 1: a YAML string \("hello world"\) at the top, not a Kubernetes object/],
  ["a pod, then a number", Buffer.from(`${pod}---\n42\n`), /^document 2: a YAML number \(42\) at the top, not a Kubernetes object/],
  ["a boolean", Buffer.from("true\n"), /^document 1: a YAML boolean \(true\) at the top/],
  ["a sequence", Buffer.from("- kind: Pod\n- kind: Service\n"), /^document 1: a YAML sequence at the top, not a Kubernetes object/],
  ["an alias to nothing", Buffer.from("kind: Pod\nmetadata: *nowhere\n"), /^document 1: .*alias/i],
];

for (const [what, input, message] of NOT_MANIFESTS) {
  test(`tailcar inject refuses ${what}, exit 1 naming the document`, () => {
    const r = tailcar(["-f", "-"], input);
    assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`);
    const error = r.stderr.split("\n").find((l) => l.startsWith("tailcar inject: "));
    assert.ok(error, r.stderr);
    assert.match(error.slice("tailcar inject: <stdin>: ".length), message);
    const written = documents(r.stdout) as Json[];
    assert.deepEqual(written.map((d) => d.metadata.name), input.includes("kind: Pod\nmetadata: {name: p,") ? ["p"] : []);
  });
}

test("tailcar inject refuses a document larger than --max-document-size, naming it, after writing the ones before", () => {
  const big = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {a: ${"x".repeat(1024 * 1024 + 1)}}\n`;
  const r = tailcar(["-f", "-", "--max-document-size", "1"], `${pod}---\n${big}`);
  assert.equal(r.status, 1);
  assert.deepEqual((documents(r.stdout) as Json[]).map((d) => d.metadata.name), ["p"]);
  assert.match(r.stderr, /^tailcar inject: <stdin>: document 2: line \d+, column \d+: the document is larger than the limit of 1 MiB \(--max-document-size\)$/m);
  const ok = tailcar(["-f", "-", "--max-document-size", "2"], `${pod}---\n${big}`);
  assert.equal(ok.status, 0, ok.stderr);
  const bad = tailcar(["-f", "-", "--max-document-size", "0"]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^tailcar inject: --max-document-size: "0" is not a whole number from 1 to 9999/);
});

test("tailcar inject reads and writes YAML as kubectl does (1.1): strings that look like booleans stay strings", () => {
  const pod = `apiVersion: v1
kind: Pod
metadata: {name: p, annotations: {tailcar.io/files: /var/log/a.log}, labels: {enabled: "yes", mode: "on"}}
spec:
  containers: [{name: app, env: [{name: A, value: "y"}, {name: B, value: "0777"}]}]
`;
  const r = tailcar(["-f", "-"], pod);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /enabled: "yes"/);
  assert.match(r.stdout, /mode: "on"/);
  assert.match(r.stdout, /value: "y"/);
  assert.match(r.stdout, /value: "0777"/);
  const [out] = parseAllDocuments(r.stdout, { version: "1.1" }).map((d) => d.toJS() as Json);
  assert.deepEqual(out!.metadata.labels, { enabled: "yes", mode: "on" });
});

// `tailcar uninject`, the built CLI (npm test builds first; run `npm run build` before running this file alone).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments, stringify } from "yaml";
import { loadGoldenCases } from "../golden/fixtures.ts";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tailcar-uninject-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function tailcar(command: "inject" | "uninject", args: readonly string[], input: string | Buffer = ""): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, command, ...args], { input, encoding: "utf8", timeout: 20_000, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function documents(text: string): unknown[] {
  return parseAllDocuments(text, { version: "1.1" }).map((d) => {
    assert.deepEqual(d.errors, []);
    return d.toJS() as unknown;
  });
}

/** `tailcar inject` of `input`, which must succeed. */
function injected(input: string, args: readonly string[] = []): string {
  const r = tailcar("inject", ["-f", "-", ...args], input);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

// Test-only: parsed YAML navigated by hand; a wrong path fails the assertion that uses it.
type Json = Record<string, any>;

const deployment = `# The web tier
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # keep in sync with the Service
spec:
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
      annotations:
        tailcar.io/files: /var/log/nginx/access.log,/var/log/nginx/error.log
    spec:
      containers:
        - name: nginx
          image: 'nginx:1.27' # quoted on purpose
`;
const service = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  ports:
    - port: 80
`;
const list = `apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
    data:
      a: "1"
  - apiVersion: apps/v1
    kind: StatefulSet
    metadata:
      name: db
    spec:
      serviceName: db
      template:
        metadata:
          annotations:
            tailcar.io/files: /data/db.log
        spec:
          containers:
            - name: db
              image: postgres
              volumeMounts:
                - name: data
                  mountPath: /data
      volumeClaimTemplates:
        - metadata:
            name: data
`;

for (const sidecarMode of ["native", "classic"]) {
  test(`tailcar uninject of tailcar inject --sidecar-mode ${sidecarMode}'s output gives back every golden pod`, () => {
    const cases = loadGoldenCases().filter((c) => c.input.metadata?.annotations?.["tailcar.io/status"] === undefined && c.cliArgs.length === 0);
    const input = cases.map((c) => stringify(c.input)).join("---\n");
    const r = tailcar("uninject", ["-f", "-"], injected(input, ["--sidecar-mode", sidecarMode]));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(documents(r.stdout), cases.map((c) => c.input));
  });
}

test("tailcar uninject gives back a Deployment, a Service and a List with a StatefulSet, as written: comments, quoting and key order", () => {
  const input = `${deployment}---\n${service}`;
  const file = join(dir, "web.yaml");
  writeFileSync(file, injected(input));
  const r = tailcar("uninject", ["-f", file]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, input);
  assert.equal(r.stderr, "");
  const listed = tailcar("uninject", ["-f", "-"], injected(list));
  assert.equal(listed.status, 0, listed.stderr);
  assert.equal(listed.stdout, list);
});

test("tailcar uninject leaves a pod without tailcar.io/status as it is, with a message, and passes other kinds through", () => {
  const r = tailcar("uninject", ["-f", "-"], `${deployment}---\n${service}`);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${deployment}---\n${service}`);
  assert.equal(r.stderr, "warning: Deployment/web: left as it is: it carries no tailcar.io/status annotation (not injected by tailcar)\n");
});

test("tailcar uninject: a sidecar removed by hand is warned about, and the rest of the injection is removed", () => {
  const [dep] = documents(injected(deployment)) as Json[];
  const spec = dep!.spec.template.spec;
  assert.deepEqual(spec.initContainers.map((c: Json) => c.name), ["access-log", "error-log"]);
  spec.initContainers = spec.initContainers.filter((c: Json) => c.name !== "error-log");
  const r = tailcar("uninject", ["-f", "-"], stringify(dep));
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(documents(r.stdout), [parse(deployment)]);
  assert.equal(r.stderr, 'warning: Deployment/web: tailcar.io/status lists the sidecar "error-log", which the pod does not have (removed by hand?); removed the rest\n');
});

test("tailcar uninject: a status annotation it cannot read leaves the pod as it is, with a message", () => {
  const pod = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    tailcar.io/status: not json\nspec:\n  containers:\n    - name: app\n`;
  const r = tailcar("uninject", ["-f", "-"], pod);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, pod);
  assert.match(r.stderr, /^warning: Pod\/p: left as it is: its tailcar\.io\/status annotation is not what tailcar writes/);
});

test("tailcar uninject: bad input exits 1 naming the input and document, after writing the documents before it", () => {
  const r = tailcar("uninject", ["-f", "-"], Buffer.concat([Buffer.from(`${service}---\nkind: `), Buffer.from([0xc3, 0x28])]));
  assert.equal(r.status, 1);
  assert.deepEqual(documents(r.stdout), [parse(service)]);
  assert.match(r.stderr, /^tailcar uninject: <stdin>: document 2: line \d+, column \d+: byte \d+ is not UTF-8 text/);
  const missing = join(dir, "missing.yaml");
  const gone = tailcar("uninject", ["-f", missing]);
  assert.equal(gone.status, 1);
  assert.equal(gone.stderr, `tailcar uninject: cannot read ${missing}: no such file\n`);
});

test("tailcar uninject: usage errors exit 2 with the problem and the usage; --help exits 0", () => {
  const none = tailcar("uninject", []);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /^tailcar uninject: no input: give -f FILE/);
  assert.match(none.stderr, /Usage: tailcar uninject -f FILE\|-/);
  const injectFlag = tailcar("uninject", ["-f", "-", "--image", "x:1"]);
  assert.equal(injectFlag.status, 2);
  assert.match(injectFlag.stderr, /^tailcar uninject: unknown option "--image"/);
  const help = tailcar("uninject", ["--help"]);
  assert.equal(help.status, 0);
  assert.match(help.stdout, /^Usage: tailcar uninject -f FILE\|-/);
  assert.match(help.stdout, /--max-document-size N/);
});

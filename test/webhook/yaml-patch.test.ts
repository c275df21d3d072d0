// `tailcar inject` edits the input YAML in place (webhook/yaml-patch.ts) so that comments, key order
// and quoting survive; where it cannot, it writes the document from the object. Either way the
// output must read back as exactly the injected object.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import fc from "fast-check";
import jsonpatch from "fast-json-patch";
import { parse, parseAllDocuments, parseDocument, stringify } from "yaml";
import { injectInputs } from "../../webhook/inject-command.ts";
import { DEFAULT_INJECT_OPTIONS } from "./default-options.ts";
import { injectManifest } from "../../webhook/workloads.ts";
import { applyPatchToDocument } from "../../webhook/yaml-patch.ts";
import { nodesOf } from "./json-trees.ts";
import { packageVersion } from "../../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();

const YAML_1_1 = { version: "1.1" } as const;

// Keys that need pointer escaping or YAML quoting (`~` and `n` are null and false in YAML 1.1).
const key = fc.oneof(fc.constantFrom("a/b", "~", "~1", "x~0/y", "tailcar.io/status", "n", "yes", "on", "1", ""), fc.string({ maxLength: 6 }));
const tree = fc.dictionary(key, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 });

test("a diff applied to the parsed YAML of any JSON tree reads back as the changed tree", () => {
  const edit = fc.tuple(fc.nat(), key, fc.jsonValue({ maxDepth: 2 }), fc.nat(3));
  fc.assert(
    fc.property(tree, fc.array(edit, { maxLength: 8 }), (input, edits) => {
      // Through JSON, as the inputs of a diff are: no -0, no undefined.
      const before = JSON.parse(JSON.stringify(input)) as Record<string, unknown>;
      const after = structuredClone(before);
      for (const [at, k, value, how] of edits) {
        const nodes = nodesOf(after);
        const node = nodes[at % nodes.length]!;
        if (Array.isArray(node)) {
          if (how === 0 && node.length > 0) node.splice(at % node.length, 1);
          else if (how === 1) node.splice(at % (node.length + 1), 0, value);
          else node.push(value);
        } else if (how === 0 && Object.keys(node).length > 0) {
          delete node[Object.keys(node)[at % Object.keys(node).length]!];
        } else {
          node[k] = value;
        }
      }
      const doc = parseDocument(stringify(before, YAML_1_1), YAML_1_1);
      applyPatchToDocument(doc, jsonpatch.compare(before, after));
      assert.deepEqual(parse(doc.toString(), YAML_1_1) ?? {}, JSON.parse(JSON.stringify(after)));
    }),
    { numRuns: 400, seed: 20261124 },
  );
});

test("operations a diff never makes, and paths through an alias, are refused rather than guessed", () => {
  const doc = parseDocument("base: &b {x: 1}\nuse: *b\nlist: [1, 2]\n", YAML_1_1);
  assert.throws(() => applyPatchToDocument(doc, [{ op: "add", path: "/use/y", value: 2 }]), /no map or sequence at \/use/);
  assert.throws(() => applyPatchToDocument(doc, [{ op: "move", from: "/base", path: "/moved" }]), /unsupported operation move/);
  assert.throws(() => applyPatchToDocument(doc, [{ op: "add", path: "/list/5", value: 3 }]), /index 5 out of range/);
  assert.throws(() => applyPatchToDocument(doc, [{ op: "remove", path: "/missing" }]), /nothing to remove at \/missing/);
  assert.throws(() => applyPatchToDocument(doc, [{ op: "replace", path: "", value: {} }]), /whole document/);
});

const COMMENTED = `# The web tier: nginx with its access log
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web # keep in sync with the Service
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels:
        app: web
      annotations:
        tailcar.io/files: /var/log/nginx/access.log # the file nginx writes
    spec:
      containers:
        - name: nginx
          image: 'nginx:1.27'
          env:
            - {name: DEBUG, value: "yes"}
---
# untouched, flow style and all
apiVersion: v1
kind: Service
metadata: {name: web}
`;

async function injected(text: string): Promise<{ out: string; expected: unknown[] }> {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-yaml-patch-"));
  const file = join(dir, "manifest.yaml");
  writeFileSync(file, text);
  try {
    let out = "";
    await injectInputs([file], DEFAULT_INJECT_OPTIONS, VERSION, { warn: () => {}, write: (text) => void (out += text) });
    const expected = parseAllDocuments(text, YAML_1_1).map((d) => injectManifest(d.toJS(), DEFAULT_INJECT_OPTIONS, VERSION).object);
    return { out, expected };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test("tailcar inject keeps the input's comments, quoting and untouched documents as written", async () => {
  const { out, expected } = await injected(COMMENTED);
  assert.deepEqual(parseAllDocuments(out, YAML_1_1).map((d) => d.toJS()), expected);
  for (const kept of ["# The web tier: nginx with its access log", "name: web # keep in sync with the Service", "# the file nginx writes", "image: 'nginx:1.27'", "# untouched, flow style and all", "metadata: { name: web }"]) {
    assert.ok(out.includes(kept), `lost ${JSON.stringify(kept)}:\n${out}`);
  }
  assert.match(out, /initContainers:\n\s+- name: access-log/);
});

test("tailcar inject writes a document from the object when an alias sits on a changed path", async () => {
  const aliased = `x-shared: &containers
  - name: app
    image: app:1
apiVersion: v1
kind: Pod
metadata:
  name: p # a comment the fallback cannot keep
  annotations: {tailcar.io/files: /var/log/app/app.log}
spec:
  containers: *containers
`;
  const { out, expected } = await injected(aliased);
  assert.deepEqual(parseAllDocuments(out, YAML_1_1).map((d) => d.toJS()), expected);
  assert.ok(!out.includes("*containers"), "the alias was kept on a changed path");
});

test("tailcar inject writes JSON input (kubectl get -o json) as block YAML, not one long flow line", async () => {
  const json = JSON.stringify(parse(COMMENTED.split("---")[0]!), null, 2);
  const { out, expected } = await injected(json);
  assert.deepEqual(parseAllDocuments(out, YAML_1_1).map((d) => d.toJS()), expected);
  assert.match(out, /^apiVersion: apps\/v1$/m);
  assert.match(out, /^ {8}- name: access-log$/m);
});

test("a sidecar added inside flow-style YAML turns the collections around it into block style", async () => {
  const flow = `# a pod written tersely
apiVersion: v1
kind: Pod
metadata: {name: p, annotations: {tailcar.io/files: /var/log/app/app.log}}
spec: {containers: [{name: app, image: "app:1", volumeMounts: [{name: logs, mountPath: /var/log/app}]}], volumes: [{name: logs, emptyDir: {}}]}
`;
  const { out, expected } = await injected(flow);
  assert.deepEqual(parseAllDocuments(out, YAML_1_1).map((d) => d.toJS()), expected);
  assert.ok(out.startsWith("# a pod written tersely\n"), out);
  assert.match(out, /^spec:$/m);
  const longest = Math.max(...out.split("\n").map((l) => l.length));
  assert.ok(longest < 200, `a line of ${longest} characters (the sidecar on one line?):\n${out}`);
  assert.match(out, /^  initContainers:\n    - name: app-log$/m);
});

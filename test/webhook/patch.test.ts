import assert from "node:assert/strict";
import { test } from "node:test";
import { inject } from "../../webhook/inject.ts";
import { DEFAULT_INJECT_OPTIONS } from "./default-options.ts";
import { podPatch } from "../../webhook/patch.ts";
import { applyPodPatch } from "./apply-patch.ts";
import type { Pod } from "../../webhook/pod-types.ts";
import { packageVersion } from "../../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();

const base: Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "p",
    labels: { "example.com/team~a": "x" },
    annotations: { "tailcar.io/files": "/var/log/a.log", "a/b~c": "1", "~": "2", "/": "3" },
  },
  spec: { containers: [{ name: "app", volumeMounts: [{ name: "logs", mountPath: "/var/log" }] }] },
};

test("the patch escapes / and ~ in keys as ~1 and ~0 (RFC 6901)", () => {
  const changed = structuredClone(base);
  changed.metadata!.annotations!["a/b~c"] = "changed";
  changed.metadata!.annotations!["~"] = "changed";
  changed.metadata!.labels!["example.com/team~a"] = "changed";
  const paths = podPatch(base, changed).map((op) => op.path).sort();
  assert.deepEqual(paths, ["/metadata/annotations/a~1b~0c", "/metadata/annotations/~0", "/metadata/labels/example.com~1team~0a"]);
  assert.deepEqual(applyPodPatch(base, podPatch(base, changed)), changed);
});

test("the injection patch adds the status annotation at its escaped path and round-trips", () => {
  const result = inject(base, DEFAULT_INJECT_OPTIONS, { version: VERSION });
  const patch = podPatch(base, result.pod);
  const status = patch.find((op) => op.path === "/metadata/annotations/tailcar.io~1status");
  assert.ok(status, JSON.stringify(patch.map((op) => op.path)));
  assert.equal(status.op, "add");
  assert.deepEqual(applyPodPatch(base, patch), result.pod);
  assert.deepEqual(base.metadata!.annotations, { "tailcar.io/files": "/var/log/a.log", "a/b~c": "1", "~": "2", "/": "3" });
});

test("a pod without spec.volumes gets the volumes list added whole", () => {
  const result = inject(base, DEFAULT_INJECT_OPTIONS, { version: VERSION });
  const patch = podPatch(base, result.pod);
  const volumes = patch.find((op) => op.path === "/spec/volumes");
  assert.ok(volumes && volumes.op === "add");
  assert.deepEqual(applyPodPatch(base, patch).spec!.volumes, result.pod.spec!.volumes);
});

test("applyPodPatch leaves the original alone", () => {
  const before = structuredClone(base);
  applyPodPatch(base, [{ op: "add", path: "/metadata/annotations/x", value: "y" }]);
  assert.deepEqual(base, before);
});

// uninject(): what injection added goes, as tailcar.io/status records it; what disagrees is warned
// about; everything else stays. The golden round trip is test/golden/round-trip.test.ts.
import assert from "node:assert/strict";
import { test } from "node:test";
import { inject } from "../../webhook/inject.ts";
import type { Pod } from "../../webhook/pod-types.ts";
import { uninject } from "../../webhook/uninject.ts";
import { DEFAULT_INJECT_OPTIONS, VERSION } from "./default-options.ts";

const STATUS = "tailcar.io/status";

/** A pod with its own init container and volume, asking for two files in a directory nothing mounts. */
const pod = (): Pod => ({
  apiVersion: "v1", kind: "Pod",
  metadata: { name: "p", annotations: { "tailcar.io/files": "/var/log/app/a.log,/var/log/app/b.log", team: "x" } },
  spec: {
    initContainers: [{ name: "setup", image: "busybox", volumeMounts: [{ name: "data", mountPath: "/data" }] }],
    containers: [{ name: "app", image: "busybox", volumeMounts: [{ name: "data", mountPath: "/data" }] }],
    volumes: [{ name: "data", emptyDir: {} }],
  },
});

const injected = (): Pod => {
  const result = inject(pod(), DEFAULT_INJECT_OPTIONS, { version: VERSION });
  assert.deepEqual(result.injected, ["a-log", "b-log"]);
  return result.pod;
};

test("inject records its sidecars and volumes in tailcar.io/status, and uninject removes exactly those, the app's mounts of them and the annotation", () => {
  const p = injected();
  assert.deepEqual(JSON.parse(p.metadata!.annotations![STATUS]!), { version: VERSION, containers: ["a-log", "b-log"], volumes: ["tailcar-logs", "tailcar-checkpoints"] });
  const result = uninject(p);
  assert.deepEqual(result.pod, pod());
  assert.deepEqual(result.removed, ["a-log", "b-log"]);
  assert.deepEqual(result.warnings, []);
});

test("a sidecar and a volume removed by hand: the rest is removed, each missing one named in a warning", () => {
  const p = injected();
  p.spec!.initContainers = p.spec!.initContainers!.filter((c) => c.name !== "b-log");
  p.spec!.volumes = p.spec!.volumes!.filter((v) => v.name !== "tailcar-checkpoints");
  const result = uninject(p);
  assert.deepEqual(result.pod, pod());
  assert.deepEqual(result.removed, ["a-log"]);
  assert.deepEqual(result.warnings, [
    'tailcar.io/status lists the sidecar "b-log", which the pod does not have (removed by hand?); removed the rest',
    'tailcar.io/status lists the volume "tailcar-checkpoints", which the pod does not have (removed by hand?)',
  ]);
});

test("a status from before volumes were recorded: the emptyDirs the sidecars mount under tailcar's names go, the app's shared volume stays, with a warning", () => {
  const p = injected();
  p.metadata!.annotations![STATUS] = JSON.stringify({ version: "0.0.9", containers: ["a-log", "b-log"] });
  // A sidecar sharing the app's own volume: it is not one injection added. (Injected sidecars are frozen.)
  const sidecar = p.spec!.initContainers![1]!;
  p.spec!.initContainers![1] = { ...sidecar, volumeMounts: [...sidecar.volumeMounts!, { name: "data", mountPath: "/data", readOnly: true }] };
  const result = uninject(p);
  assert.deepEqual(result.pod, pod());
  assert.match(result.warnings.join("\n"), /lists no volumes \(written by tailcar 0\.0\.9, before it recorded them\): .*\("tailcar-logs", "tailcar-checkpoints"\)/);
});

test("an added volume that an init container which stays also mounts is kept, with a warning", () => {
  const p = injected();
  p.spec!.initContainers![0]!.volumeMounts!.push({ name: "tailcar-logs", mountPath: "/logs" });
  const result = uninject(p);
  assert.ok(result.pod.spec!.volumes!.some((v) => v.name === "tailcar-logs"));
  assert.ok(!result.pod.spec!.volumes!.some((v) => v.name === "tailcar-checkpoints"));
  assert.deepEqual(result.warnings, ['the volume "tailcar-logs" that injection added is mounted by an init container that stays; kept']);
});

test("pods uninject leaves as they are, saying why, and never mutating the input", () => {
  const named = (annotations: Record<string, string>, spec: unknown = pod().spec): Pod => ({ ...pod(), metadata: { name: "p", annotations }, spec: spec as Pod["spec"] });
  const cases: [Pod, string][] = [
    [pod(), "not-injected"],
    [named({ [STATUS]: "not json" }), "unreadable-status"],
    [named({ [STATUS]: '{"containers":"a-log"}' }), "unreadable-status"],
    [named({ [STATUS]: '{"containers":["a"],"volumes":[1]}' }), "unreadable-status"],
    [named({ [STATUS]: '{"version":"0.1.0","containers":["app"]}' }), "every-container"],
    [named({ [STATUS]: '{"containers":["a-log"]}' }), "unreadable-status"],
    [named({ [STATUS]: '{"version":"0.1.0","containers":["a"]}' }, { containers: "app" }), "malformed-pod"],
    [named({ [STATUS]: '{"version":"0.1.0","containers":["a"]}' }, { containers: [{ name: "app", volumeMounts: [1] }] }), "malformed-pod"],
    [{ kind: "Service", metadata: { annotations: { [STATUS]: "{}" } } } as Pod, "not-a-pod"],
  ];
  for (const [input, reason] of cases) {
    const before = structuredClone(input);
    const result = uninject(input);
    assert.equal(result.skipped, reason, JSON.stringify(input.metadata));
    assert.equal(result.pod, input);
    assert.deepEqual(input, before);
  }
});

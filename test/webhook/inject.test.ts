import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseSidecarConfig } from "../../sidecar/config.ts";
import { inject, SKIP_REASONS } from "../../webhook/inject.ts";
import type { InjectOptions } from "../../webhook/options.ts";
import { DEFAULT_INJECT_OPTIONS } from "./default-options.ts";
import type { Container, Pod } from "../../webhook/pod-types.ts";
import { packageVersion } from "../../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();

function pod(annotations: Record<string, string> | undefined, extra: Partial<Pod> = {}): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "p", ...(annotations && { annotations }) },
    spec: { containers: [{ name: "app", image: "busybox", volumeMounts: [{ name: "logs", mountPath: "/var/log" }] }], volumes: [{ name: "logs", emptyDir: {} }] },
    ...extra,
  };
}

const options = (o: Partial<InjectOptions> = {}): InjectOptions => ({ ...DEFAULT_INJECT_OPTIONS, ...o });

test("skip reasons: each case leaves the pod unchanged and names its reason", () => {
  const cases: [unknown, keyof typeof SKIP_REASONS][] = [
    [{ kind: "Deployment", spec: {} }, "not-a-pod"],
    [null, "not-a-pod"],
    ["a string", "not-a-pod"],
    [{ kind: "Pod" }, "malformed-pod"],
    [{ kind: "Pod", spec: { containers: "app" } }, "malformed-pod"],
    [{ kind: "Pod", spec: { containers: [] } }, "malformed-pod"],
    [{ kind: "Pod", spec: { containers: [{ image: "x" }] } }, "malformed-pod"],
    [{ kind: "Pod", metadata: { annotations: { "tailcar.io/files": "/var/log/a.log" } }, spec: { containers: [{ name: "a" }], volumes: {} } }, "malformed-pod"],
    [{ kind: "Pod", metadata: "x", spec: { containers: [{ name: "a" }] } }, "malformed-pod"],
    [pod({ "tailcar.io/files": "/var/log/a.log" }, { metadata: { name: "p", labels: { "tailcar.io/inject": "false" }, annotations: { "tailcar.io/files": "/var/log/a.log" } } }), "opted-out-by-label"],
    [pod({ "tailcar.io/files": "/var/log/a.log", "tailcar.io/status": "{}" }), "already-injected"],
    [pod(undefined), "no-files-annotation"],
    [pod({ "tailcar.io/files": "relative.log" }), "no-valid-files"],
    [pod({ "tailcar.io/files": "/etc/app.log" }, { spec: { containers: [{ name: "app" }] } }), "no-valid-files"],
  ];
  for (const [input, reason] of cases) {
    const result = inject(input as Pod, DEFAULT_INJECT_OPTIONS, { version: VERSION });
    assert.equal(result.skipped, reason, JSON.stringify(input));
    assert.deepEqual(result.pod, input);
    assert.deepEqual(result.injected, []);
  }
});

test("a typo in the files key is skipped but not silent: the warning suggests the right key", () => {
  const result = inject(pod({ "tailcar.io/file": "/var/log/a.log" }), DEFAULT_INJECT_OPTIONS, { version: VERSION });
  assert.equal(result.skipped, "no-files-annotation");
  assert.deepEqual(result.warnings, ['unknown annotation "tailcar.io/file": did you mean "tailcar.io/files"?']);
});

test("native mode appends init containers with restartPolicy Always after existing ones; classic appends containers", () => {
  const input = pod({ "tailcar.io/files": "/var/log/a.log" });
  input.spec!.initContainers = [{ name: "setup", image: "busybox" }];
  const native = inject(input, options({ sidecarMode: "native" }), { version: VERSION });
  assert.deepEqual(native.pod.spec!.initContainers!.map((c) => [c.name, c.restartPolicy]), [["setup", undefined], ["a-log", "Always"]]);
  assert.deepEqual(native.pod.spec!.containers.map((c) => c.name), ["app"]);
  const classic = inject(input, options({ sidecarMode: "classic" }), { version: VERSION });
  assert.deepEqual(classic.pod.spec!.initContainers!.map((c) => c.name), ["setup"]);
  const added = classic.pod.spec!.containers.at(-1)!;
  assert.equal(added.name, "a-log");
  assert.equal(added.restartPolicy, undefined);
});

function envOf(container: Container, fields: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const e of container.env ?? []) {
    const fieldPath = e.valueFrom?.fieldRef?.fieldPath;
    env[e.name] = e.value ?? (fieldPath !== undefined ? fields[fieldPath]! : "");
  }
  return env;
}

test("the sidecar's command and env are read back by the sidecar's own config parser as intended", () => {
  const result = inject(pod({
    "tailcar.io/files": "/var/log/a.log",
    "tailcar.io/format": "json",
    "tailcar.io/multiline": "python",
    "tailcar.io/from": "end",
    "tailcar.io/mode": "forward",
    "tailcar.io/forward-sink": "loki",
    "tailcar.io/forward-endpoint": "http://loki:3100",
  }), DEFAULT_INJECT_OPTIONS, { version: VERSION });
  const sidecar = result.pod.spec!.initContainers![0]!;
  assert.deepEqual(sidecar.command, ["tailcar", "sidecar"]);
  assert.equal(sidecar.args, undefined);
  const env = envOf(sidecar, { "metadata.name": "p", "metadata.namespace": "ns", "spec.nodeName": "node-1" });
  const config = parseSidecarConfig(sidecar.command!.slice(2), env);
  assert.deepEqual(config.files, ["/var/log/a.log"]);
  assert.equal(config.checkpointDir, "/var/run/tailcar");
  assert.equal(config.format, "json");
  assert.equal(config.multiline, "python");
  assert.equal(config.from, "end");
  assert.equal(config.sink, "loki");
  assert.equal(config.endpoint, "http://loki:3100");
  assert.deepEqual(config.pod, { podName: "p", podNamespace: "ns", nodeName: "node-1", containerName: "a-log" });
  const checkpoint = sidecar.volumeMounts!.find((m) => m.mountPath === config.checkpointDir)!;
  assert.equal(checkpoint.subPath, "a-log", "each sidecar gets its own checkpoint subdirectory");
});

test("sidecars meet Pod Security restricted and carry requests and limits", () => {
  const result = inject(pod({ "tailcar.io/files": "/var/log/a.log" }), DEFAULT_INJECT_OPTIONS, { version: VERSION });
  const sidecar = result.pod.spec!.initContainers![0]!;
  assert.deepEqual(sidecar.securityContext, {
    runAsNonRoot: true,
    runAsUser: 65532,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  });
  assert.deepEqual(sidecar.resources, { requests: { cpu: "10m", memory: "48Mi" }, limits: { memory: "96Mi" } });
  assert.ok(sidecar.volumeMounts!.find((m) => m.name === "logs")!.readOnly);
});

test("the sidecar runs as the user of the container whose volume it shares, else the pod's", () => {
  const input = pod({ "tailcar.io/files": "/var/log/a.log" });
  input.spec!.securityContext = { runAsUser: 2000, runAsGroup: 2001, fsGroup: 3000 };
  input.spec!.containers.unshift({ name: "other", securityContext: { runAsUser: 4000 } });
  input.spec!.containers[1]!.securityContext = { runAsUser: 1000 };
  const sc = inject(input, DEFAULT_INJECT_OPTIONS, { version: VERSION }).pod.spec!.initContainers![0]!.securityContext!;
  assert.equal(sc.runAsUser, 1000);
  assert.equal(sc.runAsGroup, 2001);
  assert.equal(sc.runAsNonRoot, true);
  delete input.spec!.containers[1]!.securityContext;
  assert.equal(inject(input, DEFAULT_INJECT_OPTIONS, { version: VERSION }).pod.spec!.initContainers![0]!.securityContext!.runAsUser, 2000);
});

test("the status annotation lists the injected containers and the version the caller gave", () => {
  const result = inject(pod({ "tailcar.io/files": "/var/log/a.log,b=/var/log/b.log" }), DEFAULT_INJECT_OPTIONS, { version: "9.8.7-given" });
  assert.deepEqual(result.injected, ["a-log", "b"]);
  const status = JSON.parse(result.pod.metadata!.annotations!["tailcar.io/status"]!) as { version: string; containers: string[] };
  assert.deepEqual(status.containers, ["a-log", "b"]);
  assert.equal(status.version, "9.8.7-given", "inject() reads no package.json: the version is its input");
});

test("files in one uncovered directory share one emptyDir; files in two get two", () => {
  const input: Pod = { kind: "Pod", metadata: { annotations: { "tailcar.io/files": "/logs/a/1.log,/logs/a/2.log,/logs/b/3.log" } }, spec: { containers: [{ name: "app" }] } };
  const result = inject(input, DEFAULT_INJECT_OPTIONS, { version: VERSION });
  assert.deepEqual(result.pod.spec!.volumes!.map((v) => v.name), ["tailcar-logs", "tailcar-logs-2", "tailcar-checkpoints"]);
  assert.deepEqual(result.pod.spec!.containers[0]!.volumeMounts, [
    { name: "tailcar-logs", mountPath: "/logs/a" },
    { name: "tailcar-logs-2", mountPath: "/logs/b" },
  ]);
  assert.equal(result.warnings.length, 2);
});

test("inject never throws and never mutates its input, whatever the JSON", () => {
  const annotationValue = fc.oneof(fc.string(), fc.constantFrom("/var/log/a.log", "x=/var/log/b.log,/c/d.log", "relative", "/"));
  const annotations = fc.dictionary(fc.constantFrom("tailcar.io/files", "tailcar.io/mode", "tailcar.io/cpu-request", "tailcar.io/multiline", "tailcar.io/x", "a/b~c"), annotationValue, { noNullPrototype: true });
  const often = <T,>(usual: fc.Arbitrary<T>) => fc.oneof({ arbitrary: usual, weight: 6 }, { arbitrary: fc.jsonValue(), weight: 1 });
  const mount = fc.record({ name: fc.string(), mountPath: fc.constantFrom("/", "/var/log", "/var", "/c/", "rel") }, { noNullPrototype: true });
  const container = fc.record({ name: fc.constantFrom("app", "a-log", "", "x"), volumeMounts: fc.option(fc.array(mount), { nil: undefined }) }, { requiredKeys: ["name"], noNullPrototype: true });
  const podArb = fc.record({
    kind: fc.constantFrom("Pod", "Pod", undefined, "Job"),
    metadata: often(fc.record({ annotations, labels: fc.dictionary(fc.constantFrom("tailcar.io/inject"), fc.constantFrom("true", "false"), { noNullPrototype: true }) }, { requiredKeys: [], noNullPrototype: true })),
    spec: often(fc.record({
      containers: often(fc.array(container, { minLength: 1, maxLength: 3 })),
      volumes: fc.oneof(fc.constant(undefined), fc.array(fc.record({ name: fc.string() }, { noNullPrototype: true })), fc.jsonValue()),
      initContainers: fc.option(fc.array(container), { nil: undefined }),
    }, { requiredKeys: ["containers"], noNullPrototype: true })),
  }, { requiredKeys: [], noNullPrototype: true });
  // One in ten inputs is a pod known to be injectable, so that the injecting path is always among
  // the runs: the random pods alone were injectable so rarely that 1 run in 6 to 20 drew none.
  const injectable = fc.constant({ kind: "Pod", metadata: { annotations: { "tailcar.io/files": "/var/log/a.log" } }, spec: { containers: [{ name: "app" }] } });
  const anyPod = fc.oneof({ arbitrary: podArb, weight: 9 }, { arbitrary: injectable, weight: 1 });
  let injectedRuns = 0;
  // JSON in, as the API server sends it (fc.jsonValue, plain prototypes).
  fc.assert(fc.property(anyPod, fc.constantFrom<InjectOptions["sidecarMode"]>("native", "classic"), (input, sidecarMode) => {
    const before = structuredClone(input);
    const result = inject(input as Pod, options({ sidecarMode }), { version: VERSION });
    if (result.injected.length > 0) injectedRuns++;
    assert.deepEqual(input, before);
    assert.equal(result.injected.length === 0, result.skipped !== undefined);
  }), { numRuns: 500 });
  assert.ok(injectedRuns > 0, "the generator never produced an injectable pod");
});

test("a file below a directory already given an emptyDir shares that emptyDir", () => {
  const input: Pod = { kind: "Pod", metadata: { annotations: { "tailcar.io/files": "/logs/a.log,/logs/sub/b.log" } }, spec: { containers: [{ name: "app" }] } };
  const result = inject(input, DEFAULT_INJECT_OPTIONS, { version: VERSION });
  assert.deepEqual(result.pod.spec!.containers[0]!.volumeMounts, [{ name: "tailcar-logs", mountPath: "/logs" }]);
  assert.deepEqual(result.pod.spec!.initContainers!.map((c) => c.volumeMounts![0]), [
    { name: "tailcar-logs", mountPath: "/logs", readOnly: true },
    { name: "tailcar-logs", mountPath: "/logs", readOnly: true },
  ]);
});

test("a shared mount with subPathExpr brings the variables it uses into the sidecar", () => {
  const input: Pod = {
    kind: "Pod",
    metadata: { name: "p", annotations: { "tailcar.io/files": "/var/log/app/a.log" } },
    spec: {
      containers: [{
        name: "app",
        env: [{ name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } }, { name: "UNRELATED", value: "x" }],
        volumeMounts: [{ name: "host", mountPath: "/var/log/app", subPathExpr: "pods/$(POD)" }],
      }],
      volumes: [{ name: "host", hostPath: { path: "/data" } }],
    },
  };
  const sidecar = inject(input, DEFAULT_INJECT_OPTIONS, { version: VERSION }).pod.spec!.initContainers![0]!;
  assert.deepEqual(sidecar.volumeMounts![0], { name: "host", mountPath: "/var/log/app", readOnly: true, subPathExpr: "pods/$(POD)" });
  assert.deepEqual(sidecar.env![0], { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } });
  assert.equal(sidecar.env!.find((e) => e.name === "UNRELATED"), undefined);
});

test("tailcar.io/max-line-bytes (or the webhook's --max-line-bytes) reaches the sidecar; above 4Mi it warns and the sidecar keeps its 1Mi", () => {
  const sidecarEnv = (p: Pod): Record<string, string> =>
    Object.fromEntries((p.spec!.initContainers![0]!.env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
  const raised = inject(pod({ "tailcar.io/files": "/var/log/a.log", "tailcar.io/max-line-bytes": "2Mi" }), DEFAULT_INJECT_OPTIONS, { version: VERSION });
  assert.deepEqual(raised.warnings, []);
  assert.equal(parseSidecarConfig([], sidecarEnv(raised.pod)).maxLineBytes, 2 * 1024 * 1024);
  const cluster = inject(pod({ "tailcar.io/files": "/var/log/a.log" }), options({ maxLineBytes: 3 * 1024 * 1024 }), { version: VERSION });
  assert.equal(parseSidecarConfig([], sidecarEnv(cluster.pod)).maxLineBytes, 3 * 1024 * 1024);
  const tooLong = inject(pod({ "tailcar.io/files": "/var/log/a.log", "tailcar.io/max-line-bytes": "16Mi" }), DEFAULT_INJECT_OPTIONS, { version: VERSION });
  assert.deepEqual(tooLong.warnings, ['invalid value "16Mi" for annotation "tailcar.io/max-line-bytes": is more than 4Mi; using the default']);
  assert.equal(sidecarEnv(tooLong.pod)["TAILCAR_MAX_LINE_BYTES"], undefined);
});

// Injection keeps its per-configuration work (parsed annotations, sidecars and their JSON text) for
// frozen options (webhook/memo.ts). These prove that keeping it changes no answer: with the memo
// on (frozen options) and off (the same options unfrozen), every pod gets the same result and the
// same patch bytes, the first time and every time after.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { admit } from "../../webhook/admit.ts";
import { deepFreeze } from "../../webhook/deep-freeze.ts";
import { inject } from "../../webhook/inject.ts";
import { MEMO_LIMIT, podConfigFor } from "../../webhook/memo.ts";
import type { InjectOptions } from "../../webhook/options.ts";
import { DEFAULT_INJECT_OPTIONS } from "./default-options.ts";
import { podPatch } from "../../webhook/patch.ts";
import type { Pod } from "../../webhook/pod-types.ts";
import { loadGoldenCases } from "../golden/fixtures.ts";
import { packageVersion } from "../../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();

const memoOff = (o: InjectOptions): InjectOptions => structuredClone(o);
const memoOn = (o: InjectOptions): InjectOptions => deepFreeze(structuredClone(o));

function review(pod: Pod): unknown {
  return {
    apiVersion: "admission.k8s.io/v1",
    kind: "AdmissionReview",
    request: { uid: "u", kind: { group: "", version: "v1", kind: "Pod" }, resource: { group: "", version: "v1", resource: "pods" }, operation: "CREATE", namespace: "ns", object: pod },
  };
}

function sameWithMemoOnAndOff(pod: Pod, on: InjectOptions, off: InjectOptions): void {
  const expected = inject(structuredClone(pod), off, { version: VERSION });
  for (let round = 0; round < 2; round++) {
    const actual = inject(structuredClone(pod), on, { version: VERSION });
    assert.deepEqual(actual, expected);
    // The patch text: known container JSON (memo on) against JSON.stringify of a fresh diff (off).
    const answer = admit(review(structuredClone(pod)), on, VERSION).body as { response: { patch?: string } };
    const fresh = structuredClone(pod);
    const freshPatch = podPatch(fresh, inject(fresh, off, { version: VERSION }).pod);
    assert.equal(Buffer.from(answer.response.patch ?? "", "base64").toString("utf8"), freshPatch.length === 0 ? "" : JSON.stringify(freshPatch));
  }
}

test("every golden pod gets the same result and patch bytes with the memo on as off, first time and after", () => {
  for (const c of loadGoldenCases()) sameWithMemoOnAndOff(c.input, memoOn(c.options), memoOff(c.options));
});

test("a kept sidecar is never handed to a pod that differs in any of its inputs (random pods, two option sets)", () => {
  const optionSets = [DEFAULT_INJECT_OPTIONS, { ...DEFAULT_INJECT_OPTIONS, sidecarMode: "classic" as const, image: "registry.example/tailcar:1" }];
  const frozen = optionSets.map(memoOn);
  const files = fc.subarray(["/var/log/app/error.log", "/var/log/error.log", "x=/var/log/other.log", "/data/logs/a.log"], { minLength: 1 });
  const annotations = fc.record({
    files,
    format: fc.constantFrom(undefined, "raw", "json"),
    image: fc.constantFrom(undefined, "busybox:1", "registry.example/other:2"),
    memory: fc.constantFrom(undefined, "64Mi", "1Gi"),
    unknown: fc.constantFrom(undefined, "x"),
  });
  const users = fc.record({ pod: fc.constantFrom(undefined, 0, 1000), app: fc.constantFrom(undefined, 2000), group: fc.constantFrom(undefined, 3000) });
  const mount = fc.constantFrom(undefined, { name: "logs", mountPath: "/var/log" }, { name: "logs", mountPath: "/var/log/app", subPath: "app" }, { name: "logs", mountPath: "/data/logs", readOnly: true });
  // An app container named like a sidecar moves the sidecars' names: the same name, another file.
  const appName = fc.constantFrom("app", "error-log", "x");
  // Several pods with the same annotations (so the same kept config) and different everything else.
  // A volume of the pod's own may take the checkpoint volume's name.
  const takenVolume = fc.constantFrom(undefined, "tailcar-checkpoints");
  const variants = fc.array(fc.record({ u: users, m: mount, appName, v: takenVolume }), { minLength: 2, maxLength: 6 });
  fc.assert(
    fc.property(fc.nat(optionSets.length - 1), annotations, variants, (which, a, vs) => {
      for (const { u, m, appName: name, v } of vs) {
        const pod: Pod = {
          apiVersion: "v1",
          kind: "Pod",
          metadata: {
            generateName: "p-",
            annotations: {
              "tailcar.io/files": a.files.join(","),
              ...(a.format && { "tailcar.io/format": a.format }),
              ...(a.image && { "tailcar.io/image": a.image }),
              ...(a.memory && { "tailcar.io/memory-limit": a.memory }),
              ...(a.unknown && { "tailcar.io/unknwon": a.unknown }),
            },
          },
          spec: {
            ...(u.pod !== undefined && { securityContext: { runAsUser: u.pod, ...(u.group !== undefined && { runAsGroup: u.group }) } }),
            containers: [{
              name,
              image: "app:1",
              ...(u.app !== undefined && { securityContext: { runAsUser: u.app } }),
              ...(m && { volumeMounts: [m] }),
            }],
            volumes: [...(m ? [{ name: "logs", emptyDir: {} }] : []), ...(v ? [{ name: v, emptyDir: {} }] : [])],
          },
        };
        sameWithMemoOnAndOff(pod, frozen[which]!, memoOff(optionSets[which]!));
      }
    }),
    { numRuns: 300, seed: 20261123 },
  );
});

test("kept sidecars are frozen: a caller that writes to one gets a TypeError instead of changing other pods' answers", () => {
  const input: Pod = { kind: "Pod", metadata: { annotations: { "tailcar.io/files": "/var/log/a.log" } }, spec: { containers: [{ name: "app" }] } };
  const sidecar = inject(input, DEFAULT_INJECT_OPTIONS, { version: VERSION }).pod.spec!.initContainers![0]!;
  assert.throws(() => {
    sidecar.image = "changed";
  }, TypeError);
  assert.throws(() => sidecar.env!.push({ name: "X", value: "1" }), TypeError);
  assert.notEqual(inject(input, DEFAULT_INJECT_OPTIONS, { version: VERSION }).pod.spec!.initContainers![0]!.image, "changed");
});

test("podConfigFor hands every caller a warnings array of its own", () => {
  const annotations = { "tailcar.io/files": "/var/log/a.log", "tailcar.io/fromm": "end" };
  const first = podConfigFor(annotations, DEFAULT_INJECT_OPTIONS);
  first.warnings.push("added by a caller");
  const second = podConfigFor(annotations, DEFAULT_INJECT_OPTIONS);
  assert.equal(second.warnings.length, 1);
  assert.match(second.warnings[0]!, /unknown annotation "tailcar.io\/fromm": did you mean "tailcar.io\/from"\?/);
  assert.equal(second.config, first.config, "the same annotations give the same kept config");
});

test("past MEMO_LIMIT distinct layouts the memo starts over and answers stay right; long annotations are parsed each time", () => {
  const on = memoOn(DEFAULT_INJECT_OPTIONS);
  const off = memoOff(DEFAULT_INJECT_OPTIONS);
  const podFor = (files: string): Pod => ({ kind: "Pod", metadata: { annotations: { "tailcar.io/files": files } }, spec: { containers: [{ name: "app" }] } });
  for (let i = 0; i < MEMO_LIMIT + 10; i++) {
    const pod = podFor(`/var/log/app-${i % (MEMO_LIMIT / 2 + 7)}/a.log`);
    assert.deepEqual(inject(pod, on, { version: VERSION }), inject(pod, off, { version: VERSION }));
  }
  const long = podFor(Array.from({ length: 300 }, (_, i) => `/var/log/long/file-${i}.log`).join(","));
  assert.ok(JSON.stringify(long.metadata!.annotations).length > 4096);
  for (let round = 0; round < 2; round++) sameWithMemoOnAndOff(long, on, off);
});

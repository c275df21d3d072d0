import assert from "node:assert/strict";
import { test } from "node:test";
import { findMissedPods, inScope, MISSED_REASON, missedEvent, wouldInject, type NamespaceView, type PodView } from "../../webhook/missed-pods.ts";
import { DEFAULT_INJECT_OPTIONS } from "./default-options.ts";

const ns = (name: string, injection?: string): NamespaceView => ({
  metadata: { name, labels: { "kubernetes.io/metadata.name": name, ...(injection ? { "tailcar.io/injection": injection } : {}) } },
});

const pod = (namespace: string, name: string, extra: { label?: string; status?: boolean; files?: boolean | string; phase?: string; deleting?: boolean } = {}): PodView => ({
  metadata: {
    namespace,
    name,
    uid: `uid-${namespace}-${name}`,
    labels: extra.label === undefined ? {} : { "tailcar.io/inject": extra.label },
    annotations: {
      ...(extra.files === false ? {} : { "tailcar.io/files": typeof extra.files === "string" ? extra.files : "/var/log/app.log" }),
      ...(extra.status ? { "tailcar.io/status": '{"version":"0.1.0","containers":["app-log"]}' } : {}),
    },
    ...(extra.deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
  },
  spec: { containers: [{ name: "app", image: "busybox", volumeMounts: [{ name: "logs", mountPath: "/var/log" }] }], volumes: [{ name: "logs", emptyDir: {} }] },
  status: { phase: extra.phase ?? "Pending" },
});

const EXCLUDED = DEFAULT_INJECT_OPTIONS.excludedNamespaces;
const NAMESPACES = [ns("on", "enabled"), ns("off", "disabled"), ns("plain"), ns("odd", "maybe"), ns("kube-system", "enabled"), ns("tailcar-system", "enabled")];

test("scope follows the shipped webhooks' selectors: enabled namespace unless opted out, unlabelled namespace only when opted in", () => {
  const on = NAMESPACES[0];
  assert.equal(inScope({}, on, EXCLUDED), true);
  assert.equal(inScope({ "tailcar.io/inject": "true" }, on, EXCLUDED), true);
  assert.equal(inScope({ "tailcar.io/inject": "false" }, on, EXCLUDED), false);
  assert.equal(inScope({}, ns("plain"), EXCLUDED), false);
  assert.equal(inScope({ "tailcar.io/inject": "true" }, ns("plain"), EXCLUDED), true);
  assert.equal(inScope({ "tailcar.io/inject": "true" }, ns("off", "disabled"), EXCLUDED), false);
  // Neither shipped webhook matches a namespace label other than "enabled".
  assert.equal(inScope({ "tailcar.io/inject": "true" }, ns("odd", "maybe"), EXCLUDED), false);
  assert.equal(inScope({}, ns("kube-system", "enabled"), EXCLUDED), false);
  assert.equal(inScope({ "tailcar.io/inject": "true" }, undefined, EXCLUDED), false);
});

const injectable = wouldInject(DEFAULT_INJECT_OPTIONS);

test("a pod is missed when it asks for files, is in scope, lacks tailcar.io/status, would get sidecars, and is neither finished nor deleting", () => {
  const pods = [
    pod("on", "b-missed"),
    pod("on", "a-missed"),
    pod("on", "injected", { status: true }),
    pod("on", "no-files", { files: false }),
    pod("on", "opted-out", { label: "false" }),
    pod("on", "done", { phase: "Succeeded" }),
    pod("on", "failed", { phase: "Failed" }),
    pod("on", "going", { deleting: true }),
    pod("plain", "untouched"),
    pod("plain", "opted-in", { label: "true" }),
    pod("off", "disabled-ns", { label: "true" }),
    pod("kube-system", "system"),
    pod("gone", "namespace-unknown", { label: "true" }),
    // The webhook saw this one and warned: no valid entry, so nothing to inject, nothing missed.
    pod("on", "all-invalid", { files: "relative.log" }),
  ];
  assert.deepEqual(
    findMissedPods(pods, NAMESPACES, injectable, EXCLUDED).map((p) => `${p.namespace}/${p.name}`),
    ["on/a-missed", "on/b-missed", "plain/opted-in"],
  );
  assert.deepEqual(findMissedPods([], NAMESPACES, injectable, EXCLUDED), []);
});

test("the webhook's own namespace, from its options, is out of scope like kube-system", () => {
  const options = { ...DEFAULT_INJECT_OPTIONS, excludedNamespaces: ["kube-system", "logging"] };
  const namespaces = [ns("logging", "enabled"), ns("tailcar-system", "enabled")];
  const pods = [pod("logging", "own"), pod("tailcar-system", "ordinary")];
  assert.deepEqual(findMissedPods(pods, namespaces, wouldInject(options), options.excludedNamespaces).map((p) => `${p.namespace}/${p.name}`), ["tailcar-system/ordinary"]);
});

test("the Event names the pod, says why and what to do, and has a name fixed per pod so rescans do not repeat it", () => {
  const missed = { namespace: "on", name: "web-1", uid: "0123456789abcdef" };
  const now = new Date("2026-11-23T18:00:00Z");
  const event = missedEvent(missed, "tailcar-webhook", now);
  assert.equal(event.reason, MISSED_REASON);
  assert.equal(event.type, "Warning");
  assert.deepEqual(event.involvedObject, { apiVersion: "v1", kind: "Pod", namespace: "on", name: "web-1", uid: "0123456789abcdef" });
  assert.match(event.message ?? "", /webhook was unavailable when pod web-1 was admitted/);
  assert.match(event.message ?? "", /recreate the pod/);
  assert.equal(event.metadata.name, missedEvent(missed, "tailcar-webhook", new Date()).metadata.name);
  assert.notEqual(event.metadata.name, missedEvent({ ...missed, uid: "fedcba9876543210" }, "tailcar-webhook", now).metadata.name);
  assert.equal(event.metadata.namespace, "on");
});

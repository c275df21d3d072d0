// A namespace's checks: its label, pods that missed injection and sidecars of another version,
// grouped by the workload whose restart fixes them.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { NamespaceView } from "../../../webhook/missed-pods.ts";
import { checkMissedPods, checkNamespaceLabel, checkVersionSkew, type NamespacedPod } from "../../../webhook/check/namespace.ts";
import { ownerWorkload, replaceAdvice, type OwnedView } from "../../../webhook/check/owners.ts";

const excluded = ["kube-system", "tailcar-system"];
const ns = (name: string, label?: string): NamespaceView => ({ metadata: { name, labels: label === undefined ? {} : { "tailcar.io/injection": label } } });

test("the label: enabled passes; absent or disabled warns with the label command; excluded warns; absent namespace fails", () => {
  const cases: [string, NamespaceView | undefined, string, RegExp][] = [
    ["shop", ns("shop", "enabled"), "ok", /labelled tailcar\.io\/injection=enabled/],
    ["shop", ns("shop"), "warn", /only its pods labelled tailcar\.io\/inject=true/],
    ["shop", ns("shop", "disabled"), "warn", /none of its pods get sidecars/],
    ["kube-system", ns("kube-system", "enabled"), "warn", /never injected/],
    ["gone", undefined, "fail", /not found/],
  ];
  for (const [name, view, status, message] of cases) {
    const r = checkNamespaceLabel(name, view, excluded);
    assert.equal(r.status, status, String(message));
    assert.match(r.message, message);
    if (status === "warn" && name === "shop") assert.equal(r.fix, "kubectl label namespace shop tailcar.io/injection=enabled --overwrite");
  }
});

const rsOf = (deployment: string, name: string): OwnedView => ({ metadata: { name, ownerReferences: [{ kind: "Deployment", name: deployment, controller: true }] } });
const jobOf = (cron: string, name: string): OwnedView => ({ metadata: { name, ownerReferences: [{ kind: "CronJob", name: cron, controller: true }] } });
const replicaSets = [rsOf("web", "web-5d8f")];
const jobs = [jobOf("nightly", "nightly-1")];

function pod(name: string, annotations: Record<string, string>, owner?: { kind: string; name: string }, more: Partial<NamespacedPod> = {}): NamespacedPod {
  return {
    metadata: { name, namespace: "shop", uid: `uid-${name}`, annotations, ...(owner && { ownerReferences: [{ ...owner, controller: true }] }) },
    spec: { containers: [{ name: "app", image: "busybox" }] },
    ...more,
  };
}
const ownerOf = (p: NamespacedPod) => ownerWorkload(p as OwnedView, replicaSets, jobs);
const files = { "tailcar.io/files": "/var/log/app/app.log" };
const status = (version: string) => ({ ...files, "tailcar.io/status": JSON.stringify({ version, containers: ["app-log"] }) });

test("missed injection: pods that ask for sidecars and carry no status fail, one line per workload with its restart; injected, finished and invalid ones do not count", () => {
  const pods = [
    pod("web-5d8f-a", files, { kind: "ReplicaSet", name: "web-5d8f" }),
    pod("web-5d8f-b", files, { kind: "ReplicaSet", name: "web-5d8f" }),
    pod("lonely", files),
    pod("done", files, undefined, { status: { phase: "Succeeded" } }),
    pod("fine", status("1.0.0")),
    pod("invalid", { "tailcar.io/files": "relative.log" }),
  ];
  const results = checkMissedPods("shop", pods, ns("shop", "enabled"), excluded, ownerOf);
  assert.deepEqual(results.map((r) => [r.status, r.fix]), [
    ["fail", "kubectl -n shop rollout restart deployment/web"],
    ["fail", "recreate pod lonely from its original manifest (kubectl -n shop delete pod lonely; kubectl apply -f FILE)"],
  ]);
  assert.match(results[0]!.message, /^Deployment web: 2 pods \(web-5d8f-a, web-5d8f-b\) ask for sidecars but were admitted without them/);
  // Out of scope (an unlabelled namespace, pods not labelled inject=true): never called, not missed.
  assert.equal(checkMissedPods("shop", pods, ns("shop"), excluded, ownerOf)[0]!.status, "ok");
});

test("version skew: pods whose status names another version fail per workload; the webhook's version passes; an unknown webhook version skips", () => {
  const pods = [pod("web-5d8f-a", status("0.9.0"), { kind: "ReplicaSet", name: "web-5d8f" }), pod("cron-x", status("0.8.0"), { kind: "Job", name: "nightly-1" }), pod("new", status("1.0.0"))];
  const results = checkVersionSkew("shop", pods, "1.0.0", ownerOf);
  assert.deepEqual(results.map((r) => r.status), ["fail", "fail"]);
  assert.match(results[0]!.message, /^Deployment web: web-5d8f-a runs sidecars of tailcar 0\.9\.0; the webhook injects 1\.0\.0/);
  assert.match(results[1]!.fix!, /the next Job of CronJob nightly gets them/);
  assert.equal(checkVersionSkew("shop", [pods[2]!], "1.0.0", ownerOf)[0]!.status, "ok");
  assert.equal(checkVersionSkew("shop", pods, undefined, ownerOf)[0]!.status, "skip");
});

test("owners: a ReplicaSet's Deployment, a Job's CronJob, a StatefulSet itself, a ReplicaSet without a Deployment, a bare pod; each with its way to new pods", () => {
  const o = (kind: string, name: string): OwnedView => ({ metadata: { ownerReferences: [{ kind, name, controller: true }] } });
  assert.deepEqual(ownerWorkload(o("ReplicaSet", "web-5d8f"), replicaSets, jobs), { kind: "Deployment", name: "web" });
  assert.deepEqual(ownerWorkload(o("Job", "nightly-1"), replicaSets, jobs), { kind: "CronJob", name: "nightly" });
  assert.deepEqual(ownerWorkload(o("StatefulSet", "db"), replicaSets, jobs), { kind: "StatefulSet", name: "db" });
  assert.deepEqual(ownerWorkload(o("ReplicaSet", "orphan"), replicaSets, jobs), { kind: "ReplicaSet", name: "orphan" });
  assert.equal(ownerWorkload({ metadata: {} }, replicaSets, jobs), undefined);
  assert.equal(replaceAdvice("shop", { kind: "StatefulSet", name: "db" }, ["db-0"]), "kubectl -n shop rollout restart statefulset/db");
  assert.equal(replaceAdvice("shop", { kind: "ReplicaSet", name: "orphan" }, ["a", "b"]), "delete the pods and let ReplicaSet orphan create them again: kubectl -n shop delete pod a b");
});

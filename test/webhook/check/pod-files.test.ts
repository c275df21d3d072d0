// A pod's files, from a manifest injected by the webhook's own injector, or from a running pod.
import assert from "node:assert/strict";
import { test } from "node:test";
import { stringify } from "yaml";
import { checkManifests } from "../../../webhook/check/command.ts";
import { checkInjectedPod, checkNotInjected } from "../../../webhook/check/pod-files.ts";
import { inject } from "../../../webhook/inject.ts";
import { DEFAULT_INJECT_OPTIONS } from "../default-options.ts";
import type { Pod } from "../../../webhook/pod-types.ts";

const pod = (annotations: Record<string, string>, spec: Pod["spec"], labels: Record<string, string> = {}): Pod =>
  ({ apiVersion: "v1", kind: "Pod", metadata: { name: "web", labels, annotations }, spec });
const statuses = (results: { id: string; status: string }[], id: string): string[] => results.filter((r) => r.id === id).map((r) => r.status);
const check = (...objects: unknown[]) => checkManifests([{ name: "app.yaml", text: objects.map((o) => stringify(o)).join("---\n") }]);

test("a file on the pod's own volume, app and sidecar one user: every check of the file passes and nothing is hidden", () => {
  const results = check(pod({ "tailcar.io/files": "/var/log/app/app.log" }, {
    securityContext: { runAsUser: 1000 },
    containers: [{ name: "app", volumeMounts: [{ name: "logs", mountPath: "/var/log/app" }] }],
    volumes: [{ name: "logs", emptyDir: {} }],
  }));
  assert.deepEqual(results.map((r) => [r.id, r.status]), [["file-sidecar", "ok"], ["file-volume", "ok"], ["file-access", "ok"]]);
  assert.equal(results[0]!.group, "Pod/web (app.yaml)");
  assert.match(results[1]!.message, /on the pod's own volume logs \(emptyDir\) at \/var\/log\/app, mounted by app: nothing of the image is hidden/);
});

test("a Deployment whose file has no volume: the emptyDir tailcar adds warns that it hides the image's directory; the second container's other user fails access", () => {
  const results = check({
    apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "shop" },
    spec: { template: { metadata: { annotations: { "tailcar.io/files": "/var/log/shop/orders.log" } }, spec: { containers: [
      { name: "proxy", securityContext: { runAsUser: 1000 } }, { name: "app", securityContext: { runAsUser: 2000 } },
    ] } } },
  });
  assert.equal(results[0]!.group, "Deployment/shop (app.yaml)");
  assert.deepEqual(statuses(results, "file-volume"), ["warn"]);
  assert.match(results.find((r) => r.id === "file-volume")!.message, /on emptyDir tailcar-logs, which tailcar added at \/var\/log\/shop in proxy, app: whatever the image has in \/var\/log\/shop is hidden/);
  assert.deepEqual(statuses(results, "file-access"), ["fail"]);
});

test("entries the injector refuses fail with its reason; annotation typos warn; a pod with no valid entry fails as not injected; no pod at all fails", () => {
  const mixed = check(pod({ "tailcar.io/files": "/var/log/app/ok.log,/etc/passwd-log/x.log", "tailcar.io/fromat": "json" }, { containers: [{ name: "app", securityContext: { runAsUser: 1000 } }] }));
  const annotation = mixed.find((r) => r.id === "annotation")!;
  assert.equal(annotation.status, "warn");
  assert.match(annotation.message, /did you mean "tailcar\.io\/format"/);
  const refused = mixed.find((r) => r.id === "file-sidecar" && r.status === "fail")!;
  assert.match(refused.message, /^\/etc\/passwd-log\/x\.log: no sidecar follows it\n.*system directory \/etc/);
  const none = check(pod({ "tailcar.io/files": "relative.log" }, { containers: [{ name: "app" }] }));
  assert.deepEqual(none.filter((r) => r.id === "injected").map((r) => r.status), ["fail"]);
  assert.match(none.find((r) => r.id === "injected")!.message, /^not injected: no entry of the tailcar\.io\/files annotation is valid\n.*not an absolute path/);
  assert.equal(check({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" } })[0]!.status, "fail");
});

test("a running pod: not injected in scope fails as missed with the restart; out of scope fails with the label; opted out warns", () => {
  const running = { namespace: "shop", name: "web", metrics: new Map() };
  const p = pod({ "tailcar.io/files": "/var/log/app/app.log" }, { containers: [{ name: "app" }] });
  const [missed] = checkNotInjected({ group: "g", pod: p, running }, true, "kubectl -n shop rollout restart deployment/web");
  assert.match(missed!.message, /admitted while the webhook was down/);
  assert.equal(missed!.fix, "kubectl -n shop rollout restart deployment/web");
  const [outside] = checkNotInjected({ group: "g", pod: p, running }, false, "restart");
  assert.match(outside!.fix!, /kubectl label namespace shop tailcar\.io\/injection=enabled/);
  const [opted] = checkNotInjected({ group: "g", pod: { ...p, metadata: { ...p.metadata, labels: { "tailcar.io/inject": "false" } } }, running }, true, "restart");
  assert.match(opted!.message, /labelled tailcar\.io\/inject: "false"/);
  assert.equal(opted!.status, "warn");
});

test("a running injected pod: the sidecar's state and its metrics, read when TAILCAR_METRICS_PORT is set and skipped with why when not", () => {
  const injected = inject(pod({ "tailcar.io/files": "/var/log/app/app.log" }, {
    securityContext: { runAsUser: 1000 }, containers: [{ name: "app", volumeMounts: [{ name: "logs", mountPath: "/var/log/app" }] }], volumes: [{ name: "logs", emptyDir: {} }],
  }), DEFAULT_INJECT_OPTIONS, { version: "1.0.0" }).pod;
  const status = { initContainerStatuses: [{ name: "app-log", ready: true, restartCount: 0, state: { running: {} } }] };
  const running = { namespace: "shop", name: "web", metrics: new Map([["app-log", { text: 'tailcar_sidecar_lag_bytes{file="/var/log/app/app.log"} 0\n' }]]) };
  const without = checkInjectedPod({ group: "g", pod: { ...injected, status }, running });
  assert.deepEqual(statuses(without, "sidecar-state"), ["ok"]);
  assert.match(without.find((r) => r.id === "sidecar-metrics")!.message, /TAILCAR_METRICS_PORT is not set/);
  const sidecar = structuredClone(injected.spec!.initContainers![0]!);
  sidecar.env = [...(sidecar.env ?? []), { name: "TAILCAR_METRICS_PORT", value: "9102" }];
  const withPort = checkInjectedPod({ group: "g", pod: { ...injected, spec: { ...injected.spec!, initContainers: [sidecar] }, status }, running });
  assert.deepEqual(statuses(withPort, "sidecar-metrics"), ["ok"]);
  assert.match(withPort.find((r) => r.id === "sidecar-metrics")!.message, /lag 0 bytes/);
});

test("tailcar.io/reclaim: a sidecar that reclaims passes with its step; one that cannot warns with the injector's reason; a reclaiming sidecar on a read-only mount fails", () => {
  const spec = (user?: number): Pod["spec"] => ({
    ...(user !== undefined && { securityContext: { runAsUser: user } }),
    containers: [{ name: "app", volumeMounts: [{ name: "logs", mountPath: "/var/log/app" }] }],
    volumes: [{ name: "logs", emptyDir: {} }],
  });
  const reclaiming = check(pod({ "tailcar.io/files": "/var/log/app/app.log", "tailcar.io/reclaim": "true" }, spec(1000)));
  const good = reclaiming.find((r) => r.id === "file-reclaim")!;
  assert.equal(good.status, "ok");
  assert.match(good.message, /sidecar app-log frees the file's delivered and checkpointed blocks every 64Mi, through its writable mount of logs/);
  const unnamed = check(pod({ "tailcar.io/files": "/var/log/app/app.log", "tailcar.io/reclaim": "true" }, spec()));
  const refused = unnamed.find((r) => r.id === "file-reclaim")!;
  assert.equal(refused.status, "warn");
  assert.match(refused.message, /tailcar\.io\/reclaim is on but sidecar app-log does not reclaim: app container "app" runs as its image's user/);
  assert.deepEqual(statuses(check(pod({ "tailcar.io/files": "/var/log/app/app.log" }, spec(1000))), "file-reclaim"), [], "nothing said when reclaim is off");
  // A reclaiming sidecar whose mount was made read-only since (edited by hand).
  const injected = inject(pod({ "tailcar.io/files": "/var/log/app/app.log", "tailcar.io/reclaim": "true" }, spec(1000)), DEFAULT_INJECT_OPTIONS, { version: "0.1.0" }).pod;
  const sidecar = injected.spec!.initContainers![0]!; // frozen (shared by injection): copied
  const readOnly = { ...sidecar, volumeMounts: sidecar.volumeMounts!.map((m) => (m.mountPath === "/var/log/app" ? { ...m, readOnly: true } : m)) };
  const edited: Pod = { ...injected, spec: { ...injected.spec!, initContainers: [readOnly] } };
  const broken = checkInjectedPod({ group: "g", pod: edited }).find((r) => r.id === "file-reclaim")!;
  assert.equal(broken.status, "fail");
  assert.match(broken.message, /set to reclaim \(TAILCAR_RECLAIM\) but mounts volume logs read-only: every punch fails/);
});

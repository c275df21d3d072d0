// The dry-run admission: where it is tried, and how the answer is judged.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { NamespaceView } from "../../../webhook/missed-pods.ts";
import { checkDryRun, probeNamespace, probePod } from "../../../webhook/check/admission.ts";
import { inject } from "../../../webhook/inject.ts";
import { DEFAULT_INJECT_OPTIONS } from "../default-options.ts";

const ns = (name: string, label?: string): NamespaceView => ({ metadata: { name, labels: label === undefined ? {} : { "tailcar.io/injection": label } } });
const excluded = ["kube-system", "tailcar-system"];

test("the probe pod is one the injector gives a sidecar, running as the app's non-root user", () => {
  const result = inject(probePod(), DEFAULT_INJECT_OPTIONS, { version: "9.9.9" });
  assert.equal(result.injected.length, 1);
  assert.equal(result.pod.spec?.initContainers?.[0]?.securityContext?.runAsUser, 65532);
});

test("the probe goes to the first namespace in scope: a disabled, excluded or absent one is passed over, an unlabelled one is in scope", () => {
  assert.equal(probeNamespace([ns("shop", "enabled"), ns("default")], excluded), "shop");
  assert.equal(probeNamespace([ns("off", "disabled"), undefined, ns("default")], excluded), "default");
  assert.equal(probeNamespace([ns("tailcar-system", "enabled"), ns("plain")], excluded), "plain");
  assert.equal(probeNamespace([ns("off", "disabled")], excluded), undefined);
});

test("the answer: a status passes with the webhook's version; none fails; an error fails quoting it; no namespace skips", () => {
  const status = JSON.stringify({ version: "1.2.3", containers: ["probe-log"] });
  const passed = checkDryRun("shop", { pod: { metadata: { annotations: { "tailcar.io/status": status } } } }, "logs");
  assert.equal(passed.result.status, "ok");
  assert.equal(passed.version, "1.2.3");
  assert.match(passed.result.message, /sidecar probe-log injected by tailcar 1\.2\.3/);
  const untouched = checkDryRun("shop", { pod: { metadata: {} } }, "kubectl logs x");
  assert.equal(untouched.result.status, "fail");
  assert.equal(untouched.version, undefined);
  assert.match(untouched.result.fix!, /kubectl logs x/);
  const refused = checkDryRun("shop", { error: 'HTTP 500: failed calling webhook "namespace.inject.tailcar.io"' }, "logs");
  assert.equal(refused.result.status, "fail");
  assert.match(refused.result.message, /failed calling webhook/);
  assert.equal(checkDryRun(undefined, undefined, "logs").result.status, "skip");
  assert.equal(checkDryRun("shop", { pod: { metadata: { annotations: { "tailcar.io/status": "{broken" } } } }, "logs").result.status, "fail");
});

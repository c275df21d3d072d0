// The installation's checks, objects in, results out: each row one state of the cluster.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  checkConfiguration, checkDeployments, checkFailurePolicy, checkService, type DeploymentView, type EndpointSliceView, type ServiceView, type WebhookConfigView,
} from "../../../webhook/check/installation.ts";

const service = { name: "tailcar-webhook", namespace: "tailcar-system", path: "/mutate", port: 443 };
const config = (webhooks: WebhookConfigView["webhooks"]): WebhookConfigView => ({ metadata: { name: "tailcar" }, webhooks });
const hook = (name: string, more: object = {}) => ({ name, failurePolicy: "Ignore", clientConfig: { service }, ...more });
const target = { kind: "service", namespace: "tailcar-system", name: "tailcar-webhook", port: 443 } as const;

test("the configuration: absent and without webhooks fail with the install command; webhooks calling two places fail; one place passes and is returned", () => {
  const cases: [WebhookConfigView | undefined, string, RegExp][] = [
    [undefined, "fail", /not found/],
    [config([]), "fail", /has no webhooks/],
    [config([hook("a"), hook("b", { clientConfig: { url: "https://10.0.0.9/mutate" } })]), "fail", /send to Service tailcar-system\/tailcar-webhook:443 and https:\/\/10\.0\.0\.9\/mutate/],
    [config([hook("a"), hook("b")]), "ok", /2 webhooks \(a, b\) calling Service tailcar-system\/tailcar-webhook:443/],
  ];
  for (const [input, status, message] of cases) {
    const { results, target: found } = checkConfiguration("tailcar", input);
    assert.equal(results[0]!.status, status, String(message));
    assert.match(results[0]!.message, message);
    if (status === "fail") assert.ok(results[0]!.fix);
    assert.equal(found !== undefined, status === "ok");
  }
});

test("failurePolicy: Ignore passes, Fail and unset (the API's default is Fail) warn with the shipped value as the fix", () => {
  const results = checkFailurePolicy(config([hook("a"), hook("b", { failurePolicy: "Fail" }), { name: "c", clientConfig: { service } }]));
  assert.deepEqual(results.map((r) => r.status), ["ok", "warn", "warn"]);
  assert.match(results[2]!.message, /failurePolicy Fail/);
  assert.match(results[1]!.fix!, /failurePolicy: Ignore/);
});

const labels = { "app.kubernetes.io/name": "tailcar" };
const svc: ServiceView = { metadata: { name: "tailcar-webhook" }, spec: { selector: labels, ports: [{ port: 443 }] } };
const deploy = (status: DeploymentView["status"], name = "tailcar-webhook", podLabels: Record<string, string> = labels): DeploymentView =>
  ({ metadata: { name }, spec: { replicas: 2, template: { metadata: { labels: podLabels } } }, status });

test("the Deployment behind the Service: 0 ready fails, some ready or a rollout under way warn, all ready passes; none selected fails; no Service skips", () => {
  const cases: [DeploymentView[], ServiceView | undefined, string, RegExp][] = [
    [[deploy({ readyReplicas: 0 })], svc, "fail", /0 of 2 replicas ready/],
    [[deploy({})], svc, "fail", /0 of 2 replicas ready/],
    [[deploy({ readyReplicas: 1, updatedReplicas: 2 })], svc, "warn", /1 of 2 replicas ready/],
    [[deploy({ readyReplicas: 2, updatedReplicas: 1 })], svc, "warn", /1 updated/],
    [[deploy({ readyReplicas: 2, updatedReplicas: 2 })], svc, "ok", /Deployment tailcar-system\/tailcar-webhook: 2 of 2 replicas ready/],
    [[deploy({ readyReplicas: 2 }, "other", { app: "other" })], svc, "fail", /no Deployment in namespace tailcar-system runs the pods of Service tailcar-webhook/],
    [[deploy({ readyReplicas: 2 })], undefined, "skip", /Service is missing/],
  ];
  for (const [deployments, service, status, message] of cases) {
    const [r] = checkDeployments(target, service, deployments);
    assert.equal(r!.status, status, String(message));
    assert.match(r!.message, message);
  }
});

test("the Service: missing, without the called port, or without a ready endpoint fails; an endpoint whose ready condition is unset counts as ready", () => {
  const ready: EndpointSliceView = { endpoints: [{ addresses: ["10.1.0.5"], conditions: { ready: true } }, { addresses: ["10.1.0.6"] }, { addresses: ["10.1.0.7"], conditions: { ready: false } }] };
  const cases: [ServiceView | undefined, EndpointSliceView[], string, RegExp][] = [
    [undefined, [ready], "fail", /not found/],
    [{ spec: { selector: labels, ports: [{ port: 8443 }] } }, [ready], "fail", /has no port 443 \(it has 8443\)/],
    [svc, [], "fail", /no ready endpoints/],
    [svc, [{ endpoints: [{ addresses: ["10.1.0.7"], conditions: { ready: false } }] }], "fail", /no ready endpoints/],
    [svc, [ready], "ok", /2 ready endpoints \(10\.1\.0\.5, 10\.1\.0\.6\)/],
  ];
  for (const [service, slices, status, message] of cases) {
    const [r] = checkService(target, service, slices);
    assert.equal(r!.status, status, String(message));
    assert.match(r!.message, message);
  }
});

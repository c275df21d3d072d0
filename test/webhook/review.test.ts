import { test } from "node:test";
import assert from "node:assert/strict";
import { admissionResponse, isPodCreate, parseAdmissionReview, shortenWarning, MAX_WARNING_LENGTH } from "../../webhook/review.ts";

function review(request: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request, ...extra };
}

const goodRequest = {
  uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
  kind: { group: "", version: "v1", kind: "Pod" },
  resource: { group: "", version: "v1", resource: "pods" },
  operation: "CREATE",
  namespace: "team-a",
  object: { apiVersion: "v1", kind: "Pod", metadata: { generateName: "web-" }, spec: { containers: [] } },
};

const badInputs: [string, unknown, RegExp][] = [
  ["not an object", "hello", /body must be a JSON object .*got "hello"/],
  ["an array", [1, 2], /body must be a JSON object .*got an array/],
  ["null", null, /got null/],
  ["no apiVersion", { kind: "AdmissionReview", request: goodRequest }, /apiVersion must be "admission.k8s.io\/v1", got nothing/],
  ["v1beta1", { ...review(goodRequest), apiVersion: "admission.k8s.io/v1beta1" }, /apiVersion must be .*got "admission.k8s.io\/v1beta1"/],
  ["wrong kind", { ...review(goodRequest), kind: "Pod" }, /kind must be "AdmissionReview", got "Pod"/],
  ["missing request", { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }, /AdmissionReview.request is missing/],
  ["request not an object", review(42), /AdmissionReview.request must be an object, got number 42/],
  ["missing uid", review({ ...goodRequest, uid: undefined }), /request.uid is missing/],
  ["empty uid", review({ ...goodRequest, uid: "" }), /request.uid must not be empty/],
  ["uid a number", review({ ...goodRequest, uid: 7 }), /request.uid must be a string, got number 7/],
  ["missing kind", review({ ...goodRequest, kind: undefined }), /request.kind is missing/],
  ["kind a string", review({ ...goodRequest, kind: "Pod" }), /request.kind must be an object, got "Pod"/],
  ["kind without kind", review({ ...goodRequest, kind: { version: "v1" } }), /request.kind.kind is missing/],
  ["resource.resource wrong type", review({ ...goodRequest, resource: { version: "v1", resource: [] } }), /request.resource.resource must be a string, got an array/],
  ["missing operation", review({ ...goodRequest, operation: undefined }), /request.operation is missing/],
  ["dryRun a string", review({ ...goodRequest, dryRun: "yes" }), /request.dryRun must be a boolean, got "yes"/],
  ["object an array", review({ ...goodRequest, object: [] }), /request.object must be an object, got an array/],
  ["namespace a number", review({ ...goodRequest, namespace: 3 }), /request.namespace must be a string, got number 3/],
];

for (const [name, body, message] of badInputs) {
  test(`parseAdmissionReview rejects ${name} with a message naming the problem`, () => {
    const result = parseAdmissionReview(body);
    assert.equal(result.ok, false);
    if (!result.ok) assert.match(result.error, message);
  });
}

test("parseAdmissionReview accepts a v1 Pod CREATE and keeps namespace, dryRun and object", () => {
  const result = parseAdmissionReview(review({ ...goodRequest, dryRun: true }));
  assert.ok(result.ok);
  assert.equal(result.request.uid, goodRequest.uid);
  assert.equal(result.request.namespace, "team-a");
  assert.equal(result.request.dryRun, true);
  assert.deepEqual(result.request.object, goodRequest.object);
  assert.equal(isPodCreate(result.request), true);
});

test("parseAdmissionReview treats a missing group and null optional fields as empty", () => {
  const result = parseAdmissionReview(review({ ...goodRequest, kind: { version: "v1", kind: "Pod" }, name: null, dryRun: null, object: null }));
  assert.ok(result.ok);
  assert.equal(result.request.kind.group, "");
  assert.equal(result.request.dryRun, false);
  assert.equal(result.request.object, undefined);
});

const notOurs: [string, Record<string, unknown>][] = [
  ["UPDATE", { operation: "UPDATE" }],
  ["DELETE", { operation: "DELETE" }],
  ["a subresource", { subResource: "ephemeralcontainers" }],
  ["a Deployment", { kind: { group: "apps", version: "v1", kind: "Deployment" }, resource: { group: "apps", version: "v1", resource: "deployments" } }],
  ["a Pod kind in another group", { kind: { group: "example.com", version: "v1", kind: "Pod" } }],
];
for (const [name, change] of notOurs) {
  test(`isPodCreate is false for ${name}`, () => {
    const result = parseAdmissionReview(review({ ...goodRequest, ...change }));
    assert.ok(result.ok);
    assert.equal(isPodCreate(result.request), false);
  });
}

test("admissionResponse without a patch carries only uid and allowed", () => {
  assert.deepEqual(admissionResponse("u1"), { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "u1", allowed: true } });
});

test("admissionResponse encodes the patch as base64 JSONPatch and shortens warnings to 120 characters", () => {
  const patch = [{ op: "add", path: "/metadata/labels", value: { a: "b" } }];
  const long = `annotation tailcar.io/files: ${"x".repeat(200)}`;
  const { response } = admissionResponse("u2", patch, ["short one", long]);
  assert.equal(response.patchType, "JSONPatch");
  assert.deepEqual(JSON.parse(Buffer.from(response.patch!, "base64").toString("utf8")), patch);
  assert.equal(response.warnings?.[0], "short one");
  assert.equal(response.warnings?.[1]?.length, MAX_WARNING_LENGTH);
  assert.ok(response.warnings?.[1]?.startsWith("annotation tailcar.io/files: "));
});

test("shortenWarning folds newlines so a warning stays one header line", () => {
  assert.equal(shortenWarning("a\nb\t c"), "a b c");
});

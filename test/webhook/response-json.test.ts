// The server writes admission responses with admissionReviewJson (concatenation, for speed); it must
// give exactly the bytes JSON.stringify gives, whatever the uid, patch and warnings hold.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { frozenWithKnownJson, patchJson } from "../../webhook/known-json.ts";
import { admissionResponse, admissionReviewJson, isAsciiReview } from "../../webhook/review.ts";

test("admissionReviewJson is byte for byte JSON.stringify of any response admissionResponse builds", () => {
  const text = fc.string({ unit: "binary", maxLength: 40 });
  fc.assert(
    fc.property(text, fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 4 }), fc.array(text, { maxLength: 3 }), (uid, patch, warnings) => {
      const review = admissionResponse(uid, patch, warnings);
      const text = admissionReviewJson(review);
      assert.equal(text, JSON.stringify(review));
      assert.equal(isAsciiReview(review), Buffer.byteLength(text) === text.length);
    }),
    { numRuns: 300, seed: 20261123 },
  );
});

test("admissionReviewJson of an allowed-only response has no patch or warnings fields", () => {
  assert.equal(admissionReviewJson(admissionResponse('u"1')), '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"u\\"1","allowed":true}}');
});

test("the base64 patch decodes to the patch's UTF-8 JSON, ASCII or not", () => {
  const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.jsonValue({ maxDepth: 2, stringUnit: "binary" }));
  fc.assert(
    fc.property(fc.array(value, { minLength: 1, maxLength: 4 }), (patch) => {
      const review = admissionResponse("u", patch);
      assert.equal(Buffer.from(review.response.patch ?? "", "base64").toString("utf8"), JSON.stringify(patch));
    }),
    { numRuns: 300, seed: 20261123 },
  );
  assert.equal(admissionResponse("u", [{ value: "é ✓ 😀" }]).response.patch, Buffer.from('[{"value":"é ✓ 😀"}]').toString("base64"));
});

test("patchJson is byte for byte JSON.stringify of any array, whether its values' JSON is known or not", () => {
  // Objects whose text is recorded (as memoized sidecars are), used as operation values, as lists
  // of them, nested deeper, or as elements of their own.
  const knownObject = fc.dictionary(fc.string({ unit: "binary", maxLength: 8 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 })
    .map((o) => frozenWithKnownJson(o));
  const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), knownObject, fc.array(knownObject, { maxLength: 3 }),
    fc.tuple(knownObject, fc.jsonValue({ maxDepth: 1 })), fc.record({ nested: knownObject }), fc.constant(undefined));
  const op = fc.oneof(
    fc.record({ op: fc.constantFrom("add", "replace"), path: fc.string({ unit: "binary", maxLength: 20 }), value }),
    fc.record({ path: fc.string({ maxLength: 5 }), op: fc.constant("add"), value }),
    fc.record({ op: fc.constant("remove"), path: fc.string({ maxLength: 10 }) }),
    fc.record({ op: fc.constant("add"), path: fc.string({ maxLength: 5 }), value, extra: fc.nat() }),
    value,
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 5 }), (patch) => {
      const json = patchJson(patch);
      assert.equal(json.text, JSON.stringify(patch));
      assert.equal(json.ascii, Buffer.byteLength(json.text) === json.text.length);
    }),
    { numRuns: 500, seed: 20261123 },
  );
  const withToJSON = { op: "add", path: "/a", value: frozenWithKnownJson({ a: 1 }), toJSON: () => "custom" };
  assert.equal(patchJson([withToJSON]).text, JSON.stringify([withToJSON]));
});

test("a value whose JSON text is recorded is frozen all the way down, so the text cannot go stale", () => {
  const value = frozenWithKnownJson({ env: [{ name: "A", value: "1" }] });
  assert.throws(() => void ((value.env[0] as { value: string }).value = "2"), TypeError);
  assert.equal(patchJson([{ op: "add", path: "/a", value }]).text, JSON.stringify([{ op: "add", path: "/a", value }]));
});

test("patchJson says whether its text is ASCII, from the parts it writes: known values, paths and the rest", () => {
  const plain = frozenWithKnownJson({ name: "error-log" });
  const accented = frozenWithKnownJson({ env: [{ name: "TAILCAR_HEADER", value: "café" }] });
  const cases: [string, unknown[], boolean][] = [
    ["a known ASCII value", [{ op: "add", path: "/spec/initContainers/0", value: plain }], true],
    ["a known value with é", [{ op: "add", path: "/spec/initContainers/0", value: accented }], false],
    ["a list of known values, one with é", [{ op: "add", path: "/spec/initContainers", value: [plain, accented] }], false],
    ["a path with é", [{ op: "add", path: "/metadata/annotations/é", value: plain }], false],
    ["a value not known, with ✓", [{ op: "add", path: "/a", value: "✓" }], false],
    ["a value not known, ASCII", [{ op: "remove", path: "/a" }, { op: "add", path: "/b", value: { x: 1 } }], true],
  ];
  for (const [name, patch, ascii] of cases) {
    const json = patchJson(patch);
    assert.equal(json.text, JSON.stringify(patch), name);
    assert.equal(json.ascii, ascii, name);
  }
});

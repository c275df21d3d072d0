// The webhook's patch is fast-json-patch's `compare` without its deep copy (webhook/patch.ts). These
// properties guard that shortcut: on random JSON it gives exactly compare's operations, and on random
// pods (the golden inputs with random extra fields) the patch turns the input into the injected pod
// and inject() leaves its input untouched.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import jsonpatch from "fast-json-patch";
import { inject } from "../../webhook/inject.ts";
import { podPatch } from "../../webhook/patch.ts";
import { applyPodPatch } from "./apply-patch.ts";
import type { Pod } from "../../webhook/pod-types.ts";
import { loadGoldenCases } from "../golden/fixtures.ts";
import { nodesOf } from "./json-trees.ts";

const cases = loadGoldenCases();
const params = { numRuns: 300, seed: 20261123 };

// Keys that exercise pointer escaping and the fields inject() reads, as well as anything at all.
const key = fc.oneof(
  fc.constantFrom("a/b", "~", "~1", "/", "x~0/y", "tailcar.io/status", "tailcar.io/files", "volumeMounts", "volumes", "initContainers", "name", "env"),
  fc.string({ maxLength: 8 }),
);
const edit = fc.tuple(fc.nat(), key, fc.jsonValue({ maxDepth: 2 }), fc.boolean());

/** Applies random edits to a copy: each sets (or, for an array, appends) a value at a random node. */
function edited(pod: Pod, edits: readonly [number, string, unknown, boolean][]): Pod {
  const copy = structuredClone(pod);
  for (const [at, k, value, remove] of edits) {
    const nodes = nodesOf(copy);
    const node = nodes[at % nodes.length]!;
    if (Array.isArray(node)) {
      if (remove && node.length > 0) node.splice(at % node.length, 1);
      else node.push(value);
    } else if (remove && Object.keys(node).length > 0 && node !== (copy as unknown)) {
      delete node[Object.keys(node)[at % Object.keys(node).length]!];
    } else {
      node[k] = value;
    }
  }
  return copy;
}

test("podPatch gives exactly fast-json-patch compare's operations on random JSON", () => {
  const tree = fc.dictionary(key, fc.jsonValue({ maxDepth: 4 }), { maxKeys: 6 });
  fc.assert(
    fc.property(tree, fc.array(edit, { maxLength: 8 }), (before, edits) => {
      const after = edited(before as Pod, edits);
      assert.deepEqual(podPatch(before as Pod, after), jsonpatch.compare(before, after));
    }),
    params,
  );
});

test("on golden pods with random extra fields, the patch turns the input into the injected pod", () => {
  fc.assert(
    fc.property(fc.constantFrom(...cases), fc.array(edit, { maxLength: 6 }), (c, edits) => {
      const input = edited(c.input, edits);
      const before = structuredClone(input);
      const result = inject(input, c.options, c.context);
      assert.deepEqual(input, before, "inject() mutated its input");
      const patch = podPatch(input, result.pod);
      if (result.skipped !== undefined) assert.deepEqual(patch, []);
      // Compared as the API server receives them, through JSON: compare's copy drops a property
      // whose value is undefined (a random edit can make inject() copy a missing mount name).
      const sent = JSON.parse(JSON.stringify(patch)) as typeof patch;
      assert.deepEqual(sent, jsonpatch.compare(input, result.pod));
      assert.deepEqual(applyPodPatch(before, sent), JSON.parse(JSON.stringify(result.pod)));
    }),
    params,
  );
});

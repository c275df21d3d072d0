// The admission response's JSON Patch: the difference between the pod as received and the
// injected pod. The walk is fast-json-patch's `compare` (the same operations, in the same order,
// with RFC 6901 escaping of "/" and "~" in keys such as "tailcar.io/status"), minus its deep copy
// of every added or replaced value: that JSON round trip was most of the cost of a diff, and the
// values here are the injected pod's own fresh objects, serialized right away. So the patch's
// values are shared with `injected`: serialize it, don't mutate it. docs/decisions.md has the
// measurement; test/webhook/patch-property.test.ts checks equality with `compare` on random pods.
import type { Operation } from "fast-json-patch";
import type { Pod } from "./pod-types.ts";

export type { Operation };

type Node = Record<string, unknown> | unknown[];

function escapeKey(key: string): string {
  return key.includes("/") || key.includes("~") ? key.replace(/~/g, "~0").replace(/\//g, "~1") : key;
}

function keysOf(node: Node): string[] {
  if (!Array.isArray(node)) return Object.keys(node);
  const keys = new Array<string>(node.length);
  for (let i = 0; i < keys.length; i++) keys[i] = String(i);
  return keys;
}

function isNode(value: unknown): value is Node {
  return typeof value === "object" && value !== null;
}

// A line-for-line port of fast-json-patch 3.1.1's `_generate` (non-invertible), keeping its quirks
// (keys compared from the last, additions only when the key count differs or something was removed),
// so that the operations are exactly the ones `compare` returns.
function generate(mirror: Node, input: Node, patches: Operation[], path: string): void {
  if (input === mirror) return; // unchanged subtrees shared by reference cost nothing
  const obj = typeof (input as { toJSON?: unknown }).toJSON === "function" ? ((input as { toJSON(): Node }).toJSON()) : input;
  const record = obj as Record<string, unknown>;
  const old = mirror as Record<string, unknown>;
  const newKeys = keysOf(obj);
  const oldKeys = keysOf(mirror);
  let deleted = false;
  for (let t = oldKeys.length - 1; t >= 0; t--) {
    const key = oldKeys[t]!;
    const oldVal = old[key];
    if (Object.hasOwn(obj, key) && !(record[key] === undefined && oldVal !== undefined && !Array.isArray(obj))) {
      const newVal = record[key];
      if (isNode(oldVal) && isNode(newVal) && Array.isArray(oldVal) === Array.isArray(newVal)) {
        generate(oldVal, newVal, patches, `${path}/${escapeKey(key)}`);
      } else if (oldVal !== newVal) {
        // compare's JSON copy turns undefined (an array hole) into null; keep that.
        patches.push({ op: "replace", path: `${path}/${escapeKey(key)}`, value: newVal === undefined ? null : newVal });
      }
    } else if (Array.isArray(mirror) === Array.isArray(obj)) {
      patches.push({ op: "remove", path: `${path}/${escapeKey(key)}` });
      deleted = true;
    } else {
      patches.push({ op: "replace", path, value: obj });
    }
  }
  if (!deleted && newKeys.length === oldKeys.length) return;
  for (const key of newKeys) {
    if (!Object.hasOwn(mirror, key) && record[key] !== undefined) {
      patches.push({ op: "add", path: `${path}/${escapeKey(key)}`, value: record[key] });
    }
  }
}

export function podPatch(original: Pod, injected: Pod): Operation[] {
  const patches: Operation[] = [];
  generate(original, injected, patches, "");
  return patches;
}

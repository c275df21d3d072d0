// JSON text known before serialization. The sidecar containers are most of every answer (2.3 of the
// 2.6 KB of patch JSON for the docs' pod) and JSON.stringify of them was the largest single cost of
// an admission. A memoized container (memo.ts) is built and serialized once and shared after that,
// so its text is recorded here, and patchJson writes it as it is. docs/decisions.md has the numbers.
// The text is right only while the value does not change: the one way in freezes the value and
// serializes it itself, so no caller can record a text that differs from the value's.
import { deepFreeze } from "./deep-freeze.ts";

const known = new WeakMap<object, string>();

/** Deep-freezes `value` and records its JSON text for patchJson; returns `value`. */
export function frozenWithKnownJson<T extends object>(value: T): T {
  deepFreeze(value);
  known.set(value, JSON.stringify(value));
  return value;
}

function valueJson(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const text = known.get(value);
  if (text !== undefined || !Array.isArray(value) || value.length === 0) return text;
  // An added container list ("add /spec/initContainers" when the pod had none).
  const items: string[] = [];
  for (const item of value as unknown[]) {
    const itemText = typeof item === "object" && item !== null ? known.get(item) : undefined;
    if (itemText === undefined) return undefined;
    items.push(itemText);
  }
  return `[${items.join(",")}]`;
}

function operationJson(op: unknown): string {
  if (typeof op === "object" && op !== null && !Array.isArray(op)) {
    const o = op as { op?: unknown; path?: unknown; value?: unknown; toJSON?: unknown };
    const keys = Object.keys(op);
    if (keys.length === 3 && keys[0] === "op" && keys[1] === "path" && keys[2] === "value"
      && typeof o.op === "string" && typeof o.path === "string" && typeof o.toJSON !== "function") {
      const value = valueJson(o.value);
      if (value !== undefined) return `{"op":${JSON.stringify(o.op)},"path":${JSON.stringify(o.path)},"value":${value}}`;
    }
  }
  // What JSON.stringify writes for this element of an array (undefined and functions become null).
  return JSON.stringify(op) ?? "null";
}

/** JSON.stringify(patch), byte for byte, with the known text of the values it adds. */
export function patchJson(patch: readonly unknown[]): string {
  let out = "[";
  for (let i = 0; i < patch.length; i++) out += `${i === 0 ? "" : ","}${operationJson(patch[i])}`;
  return `${out}]`;
}

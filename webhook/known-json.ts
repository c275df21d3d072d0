// JSON text known before serialization. The sidecar containers are most of every answer (2.3 of the
// 2.6 KB of patch JSON for the docs' pod) and JSON.stringify of them was the largest single cost of
// an admission. A memoized container (memo.ts) is built and serialized once and shared after that,
// so its text is recorded here, and patchJson writes it as it is. docs/decisions.md has the numbers.
// The text is right only while the value does not change: the one way in freezes the value and
// serializes it itself, so no caller can record a text that differs from the value's.
// Each text also says whether it is ASCII, so the answer's base64 and its write need not scan the
// whole patch for other characters: only the parts not known before are looked at.
import { deepFreeze } from "./deep-freeze.ts";

/** JSON text, and whether every character of it is ASCII. */
export interface JsonText {
  readonly text: string;
  readonly ascii: boolean;
}

const NOT_ASCII = /[^\x00-\x7f]/;

/** Whether `text` is ASCII only: a UTF-8 encoding of it is then the same bytes as latin1's. */
export function isAscii(text: string): boolean {
  return !NOT_ASCII.test(text);
}

const known = new WeakMap<object, JsonText>();

/** Deep-freezes `value` and records its JSON text for patchJson; returns `value`. */
export function frozenWithKnownJson<T extends object>(value: T): T {
  deepFreeze(value);
  const text = JSON.stringify(value);
  known.set(value, { text, ascii: isAscii(text) });
  return value;
}

function valueJson(value: unknown): JsonText | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const text = known.get(value);
  if (text !== undefined || !Array.isArray(value) || value.length === 0) return text;
  // An added container list ("add /spec/initContainers" when the pod had none).
  const items: string[] = [];
  let ascii = true;
  for (const item of value as unknown[]) {
    const itemText = typeof item === "object" && item !== null ? known.get(item) : undefined;
    if (itemText === undefined) return undefined;
    items.push(itemText.text);
    ascii &&= itemText.ascii;
  }
  return { text: `[${items.join(",")}]`, ascii };
}

function operationJson(op: unknown): JsonText {
  if (typeof op === "object" && op !== null && !Array.isArray(op)) {
    const o = op as { op?: unknown; path?: unknown; value?: unknown; toJSON?: unknown };
    const keys = Object.keys(op);
    if (keys.length === 3 && keys[0] === "op" && keys[1] === "path" && keys[2] === "value"
      && typeof o.op === "string" && typeof o.path === "string" && typeof o.toJSON !== "function") {
      const value = valueJson(o.value);
      if (value !== undefined) {
        const head = `{"op":${JSON.stringify(o.op)},"path":${JSON.stringify(o.path)},"value":`;
        return { text: `${head}${value.text}}`, ascii: value.ascii && isAscii(head) };
      }
    }
  }
  // What JSON.stringify writes for this element of an array (undefined and functions become null).
  const text = JSON.stringify(op) ?? "null";
  return { text, ascii: isAscii(text) };
}

/** JSON.stringify(patch), byte for byte, with the known text of the values it adds. */
export function patchJson(patch: readonly unknown[]): JsonText {
  let out = "[";
  let ascii = true;
  for (let i = 0; i < patch.length; i++) {
    const op = operationJson(patch[i]);
    out += `${i === 0 ? "" : ","}${op.text}`;
    ascii &&= op.ascii;
  }
  return { text: `${out}]`, ascii };
}

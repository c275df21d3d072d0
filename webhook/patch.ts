// The admission response's JSON Patch: the difference between the pod as received and the
// injected clone. fast-json-patch escapes "/" and "~" in keys (RFC 6901), which matters for
// annotation keys such as "tailcar.io/status".
import jsonpatch from "fast-json-patch";
import type { Operation } from "fast-json-patch";
import type { Pod } from "./pod-types.ts";

export type { Operation };

export function podPatch(original: Pod, injected: Pod): Operation[] {
  return jsonpatch.compare(original, injected);
}

/** Applies a patch to a copy; used by tests and by anyone checking a patch round-trips. */
export function applyPodPatch(original: Pod, patch: readonly Operation[]): Pod {
  return jsonpatch.applyPatch(structuredClone(original), [...patch], true, false).newDocument;
}

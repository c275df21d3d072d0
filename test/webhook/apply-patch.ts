// Applies an admission patch as the API server would, to check that a patch round-trips: the
// webhook itself only computes patches (webhook/patch.ts).
import jsonpatch, { type Operation } from "fast-json-patch";
import type { Pod } from "../../webhook/pod-types.ts";

/** `patch` applied to a copy of `original` (validated: a patch that does not apply throws). */
export function applyPodPatch(original: Pod, patch: readonly Operation[]): Pod {
  return jsonpatch.applyPatch(structuredClone(original), [...patch], true, false).newDocument;
}

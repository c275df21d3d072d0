// Sidecar container names: `kubectl logs POD -c NAME` is how users reach a file's lines, so the
// default is derived from the file name (/var/log/error.log → error-log), as in the Kubernetes
// docs' streaming-sidecar example, and is the same every time the same pod is injected.
import { posix } from "node:path";

import { MAX_DNS1123_LABEL as MAX_LABEL } from "../settings/dns1123.ts";

function shorten(name: string, length: number): string {
  return name.slice(0, length).replace(/-+$/, "");
}

// Each admission names its sidecars again, from the same few paths: three regular expressions a
// name, kept per path (bounded, dropped whole when full).
const NAMES_KEPT = 1024;
const names = new Map<string, string>();

export function nameFromPath(path: string): string {
  const kept = names.get(path);
  if (kept !== undefined) return kept;
  const base = posix.basename(path).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  const name = shorten(base, MAX_LABEL) || "log";
  if (names.size >= NAMES_KEPT) names.clear();
  names.set(path, name);
  return name;
}

/** `base`, or `base-2`, `base-3`… (shortened to stay a valid label) if taken; records the result. */
export function claimName(base: string, taken: Set<string>): string {
  let name = base;
  for (let n = 2; taken.has(name); n++) {
    const suffix = `-${n}`;
    name = shorten(base, MAX_LABEL - suffix.length) + suffix;
  }
  taken.add(name);
  return name;
}

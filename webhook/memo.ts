// Injection's per-configuration work, done once per distinct input and shared after that: the
// parsed tailcar.io/* annotations, and each sidecar container with its JSON text. A Deployment's
// replicas, and every pod with the same annotations and log layout, ask for the same ones; the
// pod itself (its checks, names, volumes, diff and answer) is still worked out on every request.
// The protocol lives here: work is kept only for frozen options (server.ts and `tailcar inject`
// freeze theirs, DEFAULT_INJECT_OPTIONS is frozen), so a setting cannot change under a kept entry;
// options that are not frozen are correct too, only parsed on every call. Everything kept is
// deep-frozen, so a caller cannot change it either, and a kept sidecar's JSON text is recorded by
// frozenWithKnownJson, which freezes and serializes it itself.
import { parsePodConfig, type PodConfig } from "./annotations.ts";
import { deepFreeze } from "./deep-freeze.ts";
import { frozenWithKnownJson } from "./known-json.ts";
import type { InjectOptions } from "./options.ts";
import type { Container } from "./pod-types.ts";
import { sidecarContainer, type SidecarSpec } from "./sidecar-container.ts";

/**
 * Entries kept in all (parsed configs and sidecars, ~1–5 KB each); past this everything kept is
 * dropped and kept again as asked for, so a cluster of many layouts costs a few MB at most.
 */
export const MEMO_LIMIT = 1024;
/** Annotations longer than this (as a key) are parsed every time rather than kept. */
const MAX_KEY_LENGTH = 4096;

let configs = new WeakMap<InjectOptions, Map<string, ParsedConfig>>();
let sidecars = new WeakMap<PodConfig, Map<string, Kept[]>>();
let entries = 0;

/** Counts one more entry kept; past MEMO_LIMIT everything kept is dropped. */
function counted(): void {
  if (++entries >= MEMO_LIMIT) {
    configs = new WeakMap();
    sidecars = new WeakMap();
    entries = 0;
  }
}

function keep<V>(map: Map<string, V>, key: string, value: V): V {
  map.set(key, value);
  counted();
  return value;
}

/**
 * Objects seen frozen. Object.isFrozen walks every property of the options (a runtime call, not
 * inlined) on each request; an object once frozen stays frozen, so one look per object is enough.
 */
const seenFrozen = new WeakSet<object>();
function isFrozen(value: object): boolean {
  if (seenFrozen.has(value)) return true;
  if (!Object.isFrozen(value)) return false;
  seenFrozen.add(value);
  return true;
}

/** Appends a length-prefixed string: keys built of these cannot collide, whatever the strings hold. */
function part(text: string): string {
  return `${text.length}:${text}`;
}

interface ParsedConfig {
  readonly config: PodConfig;
  readonly warnings: readonly string[];
}

/**
 * parsePodConfig, kept per options and annotations. `annotations`: the pod's tailcar.io/* ones, the
 * only ones parsePodConfig reads (inject.ts copies just those), so other annotations that differ
 * from pod to pod (a template hash) never split what is kept.
 */
export function podConfigFor(annotations: Readonly<Record<string, string>>, options: InjectOptions): { config: PodConfig; warnings: string[] } {
  if (!isFrozen(options)) return parsePodConfig(annotations, options);
  let key = "";
  for (const name in annotations) if (Object.hasOwn(annotations, name)) key += part(name) + part(annotations[name]!);
  if (key.length > MAX_KEY_LENGTH) return parsePodConfig(annotations, options);
  let perOptions = configs.get(options);
  if (perOptions === undefined) configs.set(options, (perOptions = new Map()));
  const parsed = perOptions.get(key) ?? keep(perOptions, key, deepFreeze(parsePodConfig(annotations, options)));
  return { config: parsed.config, warnings: [...parsed.warnings] };
}

// What a kept sidecar is matched by: every input of sidecarContainer but `config` (the map the entry
// is kept in) and `extraEnv` (never kept, below). Matching compares this list, and the type fails to
// compile when SidecarSpec gains a field the list does not name, so a match cannot miss an input.
type KeyField = Exclude<keyof SidecarSpec, "config" | "extraEnv">;
const KEY_FIELDS = ["name", "path", "logMount", "checkpointVolume", "runAsUser", "runAsGroup", "native", "metricsPort", "reclaim", "forwardVolumes"] as const satisfies readonly KeyField[];
type Unkeyed = Exclude<KeyField, (typeof KEY_FIELDS)[number]>;
const everyInputKeyed: [Unkeyed] extends [never] ? true : Unkeyed = true;
void everyInputKeyed;

/** A kept sidecar and the inputs it was built from. */
interface Kept {
  readonly spec: SidecarSpec;
  readonly container: Container;
}
/**
 * Sidecars kept per file path (a string of the kept configuration, whose hash V8 keeps) at most:
 * a lookup compares each one's inputs with the request's, so a path shared by many layouts (one
 * annotation, pods whose volumes differ) costs a few comparisons, not a scan of all that is kept.
 */
const KEPT_PER_PATH = 8;

/**
 * Whether two inputs (JSON-like: primitives, plain objects, arrays) are equal, key by key. Not
 * node:util's isDeepStrictEqual (as manifest-stream.ts uses): it also compares prototypes and
 * lists keys, 4.8 k more instructions an admission of the docs' pod (callgrind, a warm loop).
 */
function sameInput(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || a === null || typeof b !== "object" || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  let keys = 0;
  for (const key in a) {
    if (!Object.hasOwn(a, key)) continue;
    keys++;
    if (!Object.hasOwn(b, key) || !sameInput((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  for (const key in b) if (Object.hasOwn(b, key)) keys--;
  return keys === 0;
}

function sameInputs(a: SidecarSpec, b: SidecarSpec): boolean {
  for (const f of KEY_FIELDS) if (!sameInput(a[f], b[f])) return false;
  return true;
}

/**
 * sidecarContainer(s), kept per configuration (a frozen config from podConfigFor, so the same
 * object for the same annotations) and the rest of its inputs, with its JSON text recorded for
 * patchJson. The result is frozen and shared: treat it as read-only, as inject()'s result.
 */
export function sidecarFor(s: SidecarSpec): Container {
  // extraEnv only comes with a subPathExpr mount: rare, not worth a key.
  if (!isFrozen(s.config) || s.extraEnv !== undefined) return sidecarContainer(s);
  let perConfig = sidecars.get(s.config);
  if (perConfig === undefined) sidecars.set(s.config, (perConfig = new Map()));
  let kept = perConfig.get(s.path);
  if (kept === undefined) perConfig.set(s.path, (kept = []));
  for (const k of kept) if (sameInputs(k.spec, s)) return k.container;
  const container = frozenWithKnownJson(sidecarContainer(s));
  if (kept.length === KEPT_PER_PATH) kept.shift();
  kept.push({ spec: s, container });
  counted();
  return container;
}

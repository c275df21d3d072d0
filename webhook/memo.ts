// Injection's per-configuration work, done once per distinct input and shared after that: the
// parsed tailcar.io/* annotations, and each sidecar container with its JSON text. A Deployment's
// replicas, and every pod with the same annotations and log layout, ask for the same ones; the
// pod itself (its checks, names, volumes, diff and answer) is still worked out on every request.
// The protocol lives here: work is kept only for frozen options (server.ts and `tailcar inject`
// freeze theirs, DEFAULT_INJECT_OPTIONS is frozen), so a setting cannot change under a kept entry;
// options that are not frozen are correct too, only parsed on every call. Everything kept is
// deep-frozen, so a caller cannot change it either, and a kept sidecar's JSON text is recorded by
// frozenWithKnownJson, which freezes and serializes it itself.
import { parsePodConfig, PREFIX, type PodConfig } from "./annotations.ts";
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
let sidecars = new WeakMap<PodConfig, Map<string, Container>>();
let entries = 0;

function keep<V>(map: Map<string, V>, key: string, value: V): V {
  map.set(key, value);
  if (++entries >= MEMO_LIMIT) {
    configs = new WeakMap();
    sidecars = new WeakMap();
    entries = 0;
  }
  return value;
}

interface ParsedConfig {
  readonly config: PodConfig;
  readonly warnings: readonly string[];
}

/** parsePodConfig, kept per options and tailcar.io/* annotations (the only ones it reads). */
export function podConfigFor(annotations: Readonly<Record<string, string>>, options: InjectOptions): { config: PodConfig; warnings: string[] } {
  if (!Object.isFrozen(options)) return parsePodConfig(annotations, options);
  let key = "";
  for (const name in annotations) {
    if (Object.hasOwn(annotations, name) && name.startsWith(PREFIX)) key += `${JSON.stringify(name)}:${JSON.stringify(annotations[name])},`;
  }
  if (key.length > MAX_KEY_LENGTH) return parsePodConfig(annotations, options);
  let perOptions = configs.get(options);
  if (perOptions === undefined) configs.set(options, (perOptions = new Map()));
  const parsed = perOptions.get(key) ?? keep(perOptions, key, deepFreeze(parsePodConfig(annotations, options)));
  return { config: parsed.config, warnings: [...parsed.warnings] };
}

// The key of a kept sidecar: every input of sidecarContainer but `config` (the map the entry is kept
// in) and `extraEnv` (never kept, below). The key is built from this list, and the type fails to
// compile when SidecarSpec gains a field the list does not name, so the key cannot miss an input.
type KeyField = Exclude<keyof SidecarSpec, "config" | "extraEnv">;
const KEY_FIELDS = ["name", "path", "logMount", "checkpointVolume", "runAsUser", "runAsGroup", "native", "metricsPort", "reclaim", "forwardVolumes"] as const satisfies readonly KeyField[];
type Unkeyed = Exclude<KeyField, (typeof KEY_FIELDS)[number]>;
const everyInputKeyed: [Unkeyed] extends [never] ? true : Unkeyed = true;
void everyInputKeyed;

/**
 * sidecarContainer(s), kept per configuration (a frozen config from podConfigFor, so the same
 * object for the same annotations) and the rest of its inputs, with its JSON text recorded for
 * patchJson. The result is frozen and shared: treat it as read-only, as inject()'s result.
 */
export function sidecarFor(s: SidecarSpec): Container {
  // extraEnv only comes with a subPathExpr mount: rare, not worth a key.
  if (!Object.isFrozen(s.config) || s.extraEnv !== undefined) return sidecarContainer(s);
  const key = JSON.stringify(KEY_FIELDS.map((f) => s[f] ?? null));
  let perConfig = sidecars.get(s.config);
  if (perConfig === undefined) sidecars.set(s.config, (perConfig = new Map()));
  const kept = perConfig.get(key);
  if (kept !== undefined) return kept;
  return keep(perConfig, key, frozenWithKnownJson(sidecarContainer(s)));
}

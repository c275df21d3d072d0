// Per-pod settings from tailcar.io/* annotations, read from the same rows as the webhook's flags
// (injection-rows.ts), with the same rule for each value: every bad value becomes a warning that
// names the annotation and the problem, and the setting keeps the cluster's value, so a typo never
// blocks a pod and never silently injects nothing.
import { Invalid } from "../settings/kind.ts";
import { nearestName } from "../settings/suggest.ts";
import { conflicts } from "./combinations.ts";
import { optional } from "../settings/row.ts";
import { fileEntries, FILES_ANNOTATION, invalidValue, quoted, type FileEntry } from "./file-entries.ts";
import { POD_ROWS, type PodValues } from "./injection-rows.ts";
import type { InjectOptions } from "./options.ts";

export const PREFIX = "tailcar.io/";
export const STATUS_ANNOTATION = "tailcar.io/status";
export const INJECT_LABEL = "tailcar.io/inject";
export const NAMESPACE_LABEL = "tailcar.io/injection";

export interface PodConfig extends Omit<PodValues, "image"> {
  /** The annotation's, or the cluster's (InjectOptions.image, always set). */
  image: string;
  files: FileEntry[];
}

type PodRow = (typeof POD_ROWS)[number];

/** Which files, one sidecar each: the setting that opts a pod in, so it has no cluster default. */
export const FILES_ROW = optional("files", fileEntries, "log files; one sidecar per file; without it nothing is injected", { annotation: FILES_ANNOTATION });

/** The annotation of each pod row. */
const BY_ANNOTATION = new Map<string, PodRow>(POD_ROWS.map((r) => [r.annotation!, r]));
/** Every key the webhook reads: files, the settings, and the status it writes. */
export const KNOWN_KEYS: readonly string[] = [FILES_ANNOTATION, ...BY_ANNOTATION.keys(), STATUS_ANNOTATION];

/**
 * Unknown keys longer than this get no "did you mean": a Kubernetes annotation key's name is at most
 * 63 characters, and the edit distance costs the product of the two lengths (a 3 MiB key took 4 s).
 */
export const MAX_SUGGESTED_KEY_LENGTH = PREFIX.length + 63;
/**
 * Unknown tailcar.io/ keys past this many are counted in one warning, not named one by one: a pod
 * can carry tens of thousands of them within the 3 MiB body limit.
 */
export const MAX_UNKNOWN_KEY_WARNINGS = 8;
/**
 * A setting's value (every tailcar.io/ annotation but files, which has bounds of its own) at most:
 * a longer one would be copied into every sidecar (a 3 MiB quantity passed the check as Infinity).
 */
export const MAX_VALUE_LENGTH = 4096;

/** The known key `key` is probably a typo of, if any; undefined for keys too long to be one. */
export function closestKnownKey(key: string): string | undefined {
  return key.length > MAX_SUGGESTED_KEY_LENGTH ? undefined : nearestName(key, KNOWN_KEYS, PREFIX);
}

function unknownKeyWarning(key: string): string {
  const near = closestKnownKey(key);
  return `unknown annotation ${quoted(key)}${near ? `: did you mean ${JSON.stringify(near)}?` : `; known keys: ${KNOWN_KEYS.join(", ")}`}`;
}

const annotationOf = (key: keyof PodValues): string => POD_ROWS.find((r) => r.key === key)!.annotation!;

/** A value as its annotation would write it (an object or list value has no String() of use). */
function formatted(key: keyof PodValues, value: unknown): string {
  const row = POD_ROWS.find((r) => r.key === key)!;
  return (row.kind.format as (v: unknown) => string)(value);
}

function checkCombinations(config: PodConfig, annotations: Readonly<Record<string, string>>, warnings: string[]): void {
  for (const conflict of conflicts(config)) {
    // Blame an annotation the pod carries: the cluster's values were checked together at start-up.
    const key = conflict.keys.find((k) => Object.hasOwn(annotations, annotationOf(k)));
    const problem = conflict.problem(annotationOf);
    if (key === undefined) warnings.push(`the webhook's defaults: ${problem}; ${conflict.fixed}`);
    else warnings.push(invalidValue(annotationOf(key), formatted(key, config[key]), `${problem}; ${conflict.fixed}`));
    conflict.fix(config);
  }
}

/** Reads every tailcar.io/* annotation over the cluster defaults. Pure; never throws. */
export function parsePodConfig(annotations: Readonly<Record<string, string>>, options: InjectOptions): { config: PodConfig; warnings: string[] } {
  const values: Record<string, unknown> = { files: [] };
  for (const row of POD_ROWS) values[row.key] = options[row.key];
  const config = values as unknown as PodConfig;
  const warnings: string[] = [];
  let unknown = 0;
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(PREFIX) || key === STATUS_ANNOTATION) continue;
    if (key === FILES_ANNOTATION) {
      const parsed = fileEntries.parse(value);
      config.files = parsed.entries;
      warnings.push(...parsed.warnings);
      continue;
    }
    const row = BY_ANNOTATION.get(key);
    if (!row) {
      if (++unknown <= MAX_UNKNOWN_KEY_WARNINGS) warnings.push(unknownKeyWarning(key));
      continue;
    }
    const parsed = value.length > MAX_VALUE_LENGTH ? new Invalid(`is longer than ${MAX_VALUE_LENGTH} characters`) : row.kind.parse(value.trim());
    if (parsed instanceof Invalid) warnings.push(invalidValue(key, row.kind.shown?.(value) ?? value, `${parsed.problem}; using the default`, row.kind.url));
    else values[row.key] = parsed;
  }
  if (unknown > MAX_UNKNOWN_KEY_WARNINGS) {
    warnings.push(`${unknown - MAX_UNKNOWN_KEY_WARNINGS} more unknown tailcar.io/ annotations not named here; known keys: ${KNOWN_KEYS.join(", ")}`);
  }
  checkCombinations(config, annotations, warnings);
  return { config, warnings };
}

// Per-pod settings from tailcar.io/* annotations, validated from one table (as Istio does): every
// bad value becomes a warning that names the annotation and the problem, and the setting falls
// back to the cluster default, so a typo never blocks a pod and never silently injects nothing.
import { endpointProblem } from "../sidecar/config.ts";
import { imageReferenceProblem } from "./image-reference.ts";
import { FILES_ANNOTATION, invalidValue, parseFileEntries, quoted, type FileEntry } from "./file-entries.ts";
import {
  DELIVERY_MODES, FORWARD_SINKS, PULL_POLICIES,
  type DeliveryMode, type ForwardSink, type InjectOptions, type PullPolicy, type ResourceOptions,
} from "./options.ts";
import { parseQuantity, quantityProblem } from "../settings/quantity.ts";

export const PREFIX = "tailcar.io/";
export const STATUS_ANNOTATION = "tailcar.io/status";
export const INJECT_LABEL = "tailcar.io/inject";
export const NAMESPACE_LABEL = "tailcar.io/injection";

export interface PodConfig {
  files: FileEntry[];
  image: string;
  imagePullPolicy: PullPolicy;
  mode: DeliveryMode;
  format: "raw" | "json";
  forwardSink?: ForwardSink;
  forwardEndpoint?: string;
  resources: ResourceOptions;
  from?: "start" | "end";
  multiline?: string;
}

interface AnnotationSpec {
  readonly key: string;
  /** For docs/annotations.md and --help. */
  readonly default: string;
  readonly help: string;
  /** Stores the value in the config, or returns why it is invalid. */
  readonly apply: (value: string, config: PodConfig) => string | undefined;
}

function oneOf<T extends string>(allowed: readonly T[], set: (v: T, c: PodConfig) => void) {
  return (value: string, config: PodConfig): string | undefined => {
    if (!(allowed as readonly string[]).includes(value)) return `must be one of ${allowed.join(", ")}`;
    set(value as T, config);
    return undefined;
  };
}

function quantity(set: (v: string, c: PodConfig) => void) {
  return (value: string, config: PodConfig): string | undefined => {
    const problem = quantityProblem(value);
    if (problem === undefined) set(value, config);
    return problem;
  };
}

export const ANNOTATIONS: readonly AnnotationSpec[] = [
  { key: FILES_ANNOTATION, default: "(none: nothing is injected)", help: "log files, comma- or newline-separated `[name=]/absolute/path`; one sidecar per file", apply: () => undefined },
  { key: "tailcar.io/mode", default: "webhook --mode (stream)", help: "stream: the file's lines go to the sidecar's stdout (kubectl logs); forward: shipped to a backend",
    apply: oneOf(DELIVERY_MODES, (v, c) => (c.mode = v)) },
  { key: "tailcar.io/format", default: "webhook --format (raw)", help: "raw: lines as written; json: one JSON object per line with time, file and pod metadata",
    apply: oneOf(["raw", "json"] as const, (v, c) => (c.format = v)) },
  { key: "tailcar.io/image", default: "webhook --image", help: "sidecar image",
    apply: (v, c) => imageReferenceProblem(v) ?? void (c.image = v) },
  { key: "tailcar.io/image-pull-policy", default: "webhook --image-pull-policy (IfNotPresent)", help: "Always, IfNotPresent or Never",
    apply: oneOf(PULL_POLICIES, (v, c) => (c.imagePullPolicy = v)) },
  { key: "tailcar.io/cpu-request", default: "10m", help: "CPU request of each sidecar", apply: quantity((v, c) => (c.resources.requests.cpu = v)) },
  { key: "tailcar.io/memory-request", default: "48Mi", help: "memory request of each sidecar", apply: quantity((v, c) => (c.resources.requests.memory = v)) },
  { key: "tailcar.io/cpu-limit", default: "(none)", help: "CPU limit of each sidecar", apply: quantity((v, c) => (c.resources.limits.cpu = v)) },
  { key: "tailcar.io/memory-limit", default: "96Mi", help: "memory limit of each sidecar", apply: quantity((v, c) => (c.resources.limits.memory = v)) },
  { key: "tailcar.io/forward-sink", default: "webhook --forward-sink (none)", help: "backend for mode forward: elasticsearch or loki",
    apply: oneOf(FORWARD_SINKS, (v, c) => (c.forwardSink = v)) },
  { key: "tailcar.io/forward-endpoint", default: "webhook --forward-endpoint (none)", help: "backend base URL for mode forward",
    apply: (v, c) => {
      // The sidecar's own start-up check (scheme, credentials it can decode): a value it would
      // refuse, exit 2, is refused here, with the cluster default kept. Its "not a URL" quotes the
      // value, which the warning already does.
      if (!URL.canParse(v)) return "is not a URL";
      const problem = endpointProblem(v);
      if (problem !== undefined) return problem;
      c.forwardEndpoint = v;
      return undefined;
    } },
  { key: "tailcar.io/multiline", default: "(off)", help: "json format only: java, python, or a regular expression that starts a record",
    apply: (v, c) => {
      if (v !== "java" && v !== "python") {
        try {
          new RegExp(v);
        } catch (e) {
          // V8's message quotes the whole pattern ("Invalid regular expression: /…/: reason"): keep the reason.
          return `is not java, python or a regular expression: ${(e as Error).message.split(": ").at(-1)}`;
        }
      }
      c.multiline = v;
      return undefined;
    } },
  { key: "tailcar.io/from", default: "start", help: "where to begin a file seen for the first time: start (tail -n+1) or end",
    apply: oneOf(["start", "end"] as const, (v, c) => (c.from = v)) },
  { key: STATUS_ANNOTATION, default: "(written by the injector)", help: "JSON {version, containers}; a pod carrying it is not injected again", apply: () => undefined },
];

const KNOWN = new Map(ANNOTATIONS.map((a) => [a.key, a]));

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

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** The known key `key` is probably a typo of, if any; undefined for keys too long to be one. */
export function closestKnownKey(key: string): string | undefined {
  if (key.length > MAX_SUGGESTED_KEY_LENGTH) return undefined;
  let best: { key: string; d: number } | undefined;
  for (const known of KNOWN.keys()) {
    const d = editDistance(key, known);
    if (!best || d < best.d) best = { key: known, d };
  }
  // Close enough to be a typo: a couple of edits, more for long keys.
  const allowed = Math.max(2, Math.floor((key.length - PREFIX.length) / 3));
  return best && best.d <= allowed ? best.key : undefined;
}

function unknownKeyWarning(key: string): string {
  const near = closestKnownKey(key);
  return `unknown annotation ${quoted(key)}${near ? `: did you mean ${JSON.stringify(near)}?` : `; known keys: ${[...KNOWN.keys()].join(", ")}`}`;
}

function checkCombinations(config: PodConfig, has: (key: string) => boolean, warnings: string[]): void {
  if (config.mode === "forward" && (config.forwardSink === undefined || config.forwardEndpoint === undefined)) {
    warnings.push(invalidValue("tailcar.io/mode", "forward",
      "mode forward needs a backend (tailcar.io/forward-sink and tailcar.io/forward-endpoint, or the webhook's defaults); streaming to stdout instead"));
    config.mode = "stream";
  }
  if (config.multiline !== undefined && config.format !== "json") {
    warnings.push(invalidValue("tailcar.io/multiline", config.multiline, "multiline needs tailcar.io/format: json; ignored"));
    delete config.multiline;
  }
  for (const [kind, request, limit] of [
    ["cpu", config.resources.requests.cpu, config.resources.limits.cpu],
    ["memory", config.resources.requests.memory, config.resources.limits.memory],
  ] as const) {
    if (limit === undefined || parseQuantity(request)! <= parseQuantity(limit)!) continue;
    const key = has(`tailcar.io/${kind}-request`) ? `tailcar.io/${kind}-request` : `tailcar.io/${kind}-limit`;
    warnings.push(invalidValue(key, has(key) ? (key.endsWith("request") ? request : limit) : request,
      `the ${kind} request ${request} is more than the limit ${limit}; the request is set to the limit`));
    config.resources.requests[kind] = limit;
  }
}

/** Reads every tailcar.io/* annotation over the cluster defaults. Pure; never throws. */
export function parsePodConfig(annotations: Readonly<Record<string, string>>, options: InjectOptions): { config: PodConfig; warnings: string[] } {
  const config: PodConfig = {
    files: [],
    image: options.image,
    imagePullPolicy: options.imagePullPolicy,
    mode: options.mode,
    format: options.format,
    // A copy the annotations may change (structuredClone of these few strings cost ~2 µs a pod).
    resources: { requests: { ...options.resources.requests }, limits: { ...options.resources.limits } },
    ...(options.forwardSink !== undefined && { forwardSink: options.forwardSink }),
    ...(options.forwardEndpoint !== undefined && { forwardEndpoint: options.forwardEndpoint }),
  };
  const warnings: string[] = [];
  let unknown = 0;
  for (const [key, value] of Object.entries(annotations)) {
    if (!key.startsWith(PREFIX)) continue;
    const spec = KNOWN.get(key);
    if (!spec) {
      if (++unknown <= MAX_UNKNOWN_KEY_WARNINGS) warnings.push(unknownKeyWarning(key));
      continue;
    }
    if (key === FILES_ANNOTATION) {
      const parsed = parseFileEntries(value);
      config.files = parsed.entries;
      warnings.push(...parsed.warnings);
      continue;
    }
    const problem = value.length > MAX_VALUE_LENGTH ? `is longer than ${MAX_VALUE_LENGTH} characters` : spec.apply(value.trim(), config);
    if (problem !== undefined) warnings.push(invalidValue(key, value, `${problem}; using the default`));
  }
  if (unknown > MAX_UNKNOWN_KEY_WARNINGS) {
    warnings.push(`${unknown - MAX_UNKNOWN_KEY_WARNINGS} more unknown tailcar.io/ annotations not named here; known keys: ${[...KNOWN.keys()].join(", ")}`);
  }
  checkCombinations(config, (key) => Object.hasOwn(annotations, key), warnings);
  return { config, warnings };
}

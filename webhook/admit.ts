// One admission decision: a parsed JSON body in, the HTTP status and body out, plus what to log and
// count. The fixed pipeline (parse review → is it ours → inject → diff) names the step that failed.
// Pure apart from the clock, so the server, the benchmark and tests share it.
import { inject } from "./inject.ts";
import type { InjectOptions } from "./options.ts";
import { podPatch } from "./patch.ts";
import type { Pod } from "./pod-types.ts";
import { admissionResponse, isPodCreate, parseAdmissionReview, type AdmissionReviewResponse } from "./review.ts";

/** How an admission request ended; a fixed list so a metric's label has bounded cardinality. */
export const ADMISSION_RESULTS = ["injected", "skipped", "ignored", "invalid", "error"] as const;
export type AdmissionResult = (typeof ADMISSION_RESULTS)[number];

export interface AdmissionOutcome {
  readonly status: number;
  readonly body: AdmissionReviewResponse | { readonly error: string };
  readonly result: AdmissionResult;
  /** Names of the sidecars injected. */
  readonly injected: readonly string[];
  /**
   * The warnings, at most MAX_WARNINGS (and one that counts the rest), each at most
   * MAX_LOGGED_WARNING_LENGTH characters; the response carries them shortened to 120.
   */
  readonly warnings: readonly string[];
  readonly skipped?: string;
  readonly dryRun: boolean;
  /** What identifies the request in a log line. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Warnings an answer and its log line carry; a pod with more gets one more that counts the rest. */
export const MAX_WARNINGS = 16;
/** A logged warning's length at most (the answer's are 120). */
export const MAX_LOGGED_WARNING_LENGTH = 1024;
/** A logged string from the request (uid, name, namespace, …) at most: the request may hold megabytes. */
export const MAX_LOGGED_FIELD_LENGTH = 256;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

function bounded(warnings: readonly string[]): string[] {
  const kept = warnings.slice(0, MAX_WARNINGS).map((w) => clip(w, MAX_LOGGED_WARNING_LENGTH));
  if (warnings.length > MAX_WARNINGS) kept.push(`${warnings.length - MAX_WARNINGS} more warnings not shown`);
  return kept;
}

function loggable(value: unknown): unknown {
  return typeof value === "string" ? clip(value, MAX_LOGGED_FIELD_LENGTH) : value;
}

/**
 * What a pod may carry for the webhook to read it. Past these it is admitted unchanged (skipped as
 * "oversized-pod"): V8 spends microseconds per key of a large object, so 58,000 annotations took
 * 450 ms to inject, and the files × mounts search took 700 ms for 85,000 mounts. Real pods carry
 * tens of each; the API server refuses annotations over 256 KiB in all anyway.
 */
export const MAX_POD_ANNOTATIONS = 1024;
export const MAX_POD_LABELS = 1024;
export const MAX_POD_VOLUME_MOUNTS = 1024;

/** Whether `value` is an object with more than `max` keys; stops counting there. */
function moreKeysThan(value: unknown, max: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  let n = 0;
  for (const key in value) if (Object.hasOwn(value, key) && ++n > max) return true;
  return false;
}

function mountCount(containers: unknown): number {
  if (!Array.isArray(containers)) return 0;
  let n = 0;
  for (const c of containers as unknown[]) {
    const mounts = typeof c === "object" && c !== null ? (c as { volumeMounts?: unknown }).volumeMounts : undefined;
    if (Array.isArray(mounts)) n += mounts.length;
  }
  return n;
}

/** Why the pod is too large to read, or undefined. */
function oversized(pod: Record<string, unknown>): string | undefined {
  const meta = metadataOf(pod);
  const m = meta as { annotations?: unknown; labels?: unknown };
  if (moreKeysThan(m.annotations, MAX_POD_ANNOTATIONS)) return `more than ${MAX_POD_ANNOTATIONS} annotations`;
  if (moreKeysThan(m.labels, MAX_POD_LABELS)) return `more than ${MAX_POD_LABELS} labels`;
  const spec = pod["spec"];
  if (typeof spec === "object" && spec !== null) {
    const s = spec as { containers?: unknown; initContainers?: unknown };
    const mounts = mountCount(s.containers) + mountCount(s.initContainers);
    if (mounts > MAX_POD_VOLUME_MOUNTS) return `${mounts} volume mounts, more than ${MAX_POD_VOLUME_MOUNTS}`;
  }
  return undefined;
}

function metadataOf(object: unknown): { name?: unknown; generateName?: unknown; namespace?: unknown } {
  if (typeof object !== "object" || object === null) return {};
  const metadata = (object as { metadata?: unknown }).metadata;
  return typeof metadata === "object" && metadata !== null ? (metadata as Record<string, unknown>) : {};
}

function invalid(error: string, fields: Record<string, unknown> = {}): AdmissionOutcome {
  return { status: 400, body: { error }, result: "invalid", injected: [], warnings: [], dryRun: false, fields };
}

/** `version`: the injector's, for the tailcar.io/status annotation. */
export function admit(body: unknown, options: InjectOptions, version: string): AdmissionOutcome {
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) return invalid(parsed.error);
  const request = parsed.request;
  const meta = metadataOf(request.object);
  const fields = {
    uid: loggable(request.uid),
    operation: loggable(request.operation),
    kind: loggable(request.kind.kind),
    namespace: loggable(request.namespace ?? meta.namespace),
    name: loggable(request.name ?? meta.name),
    generateName: loggable(meta.generateName),
    dryRun: request.dryRun,
  };
  const base = { injected: [], warnings: [], dryRun: request.dryRun, fields };
  if (!isPodCreate(request)) {
    return { ...base, status: 200, body: admissionResponse(request.uid), result: "ignored" };
  }
  if (request.object === undefined) return invalid("request.object is missing: a Pod CREATE must carry the pod", fields);
  const pod = request.object as Pod;
  const tooLarge = oversized(request.object as Record<string, unknown>);
  if (tooLarge !== undefined) {
    const warning = `tailcar: not injected: the pod has ${tooLarge}, past what the webhook reads`;
    return { ...base, status: 200, body: admissionResponse(request.uid, [], [warning]), result: "skipped", warnings: [warning], skipped: "oversized-pod" };
  }
  try {
    const result = inject(pod, options, request.namespace === undefined ? { version } : { version, namespace: request.namespace });
    const patch = podPatch(pod, result.pod);
    const warnings = bounded(result.warnings);
    return {
      ...base,
      status: 200,
      body: admissionResponse(request.uid, patch, warnings),
      result: result.injected.length > 0 ? "injected" : "skipped",
      injected: result.injected,
      warnings,
      ...(result.injected.length === 0 ? { skipped: result.skipped ?? "nothing-injected" } : {}),
    };
  } catch (e) {
    // The injector is meant to be total; if it is not, admit the pod unchanged and say why, rather
    // than a 500 that the API server would turn into an opaque failure.
    const message = e instanceof Error ? e.message : String(e);
    const warning = clip(`tailcar: injection failed, pod admitted unchanged: ${message}`, MAX_LOGGED_WARNING_LENGTH);
    return { ...base, status: 200, body: admissionResponse(request.uid, [], [warning]), result: "error", warnings: [warning] };
  }
}

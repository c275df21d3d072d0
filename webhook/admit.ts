// One admission decision: a parsed JSON body in, the HTTP status and body out, plus what to log and
// count. The fixed pipeline (parse review → is it ours → inject → diff) names the step that failed.
// Pure apart from the clock, so the server, the benchmark and tests share it.
import { inject } from "./inject.ts";
import type { InjectOptions } from "./options.ts";
import { podPatch } from "./patch.ts";
import type { Pod } from "./pod-types.ts";
import { admissionResponse, isPodCreate, parseAdmissionReview, type AdmissionReviewResponse } from "./review.ts";
import type { AdmissionResult } from "./metrics.ts";

export interface AdmissionOutcome {
  readonly status: number;
  readonly body: AdmissionReviewResponse | { readonly error: string };
  readonly result: AdmissionResult;
  /** Names of the sidecars injected. */
  readonly injected: readonly string[];
  /** Full warnings (the response carries them shortened to 120 characters). */
  readonly warnings: readonly string[];
  readonly skipped?: string;
  readonly dryRun: boolean;
  /** What identifies the request in a log line. */
  readonly fields: Readonly<Record<string, unknown>>;
}

function metadataOf(object: unknown): { name?: unknown; generateName?: unknown; namespace?: unknown } {
  if (typeof object !== "object" || object === null) return {};
  const metadata = (object as { metadata?: unknown }).metadata;
  return typeof metadata === "object" && metadata !== null ? (metadata as Record<string, unknown>) : {};
}

function invalid(error: string, fields: Record<string, unknown> = {}): AdmissionOutcome {
  return { status: 400, body: { error }, result: "invalid", injected: [], warnings: [], dryRun: false, fields };
}

export function admit(body: unknown, options: InjectOptions): AdmissionOutcome {
  const parsed = parseAdmissionReview(body);
  if (!parsed.ok) return invalid(parsed.error);
  const request = parsed.request;
  const meta = metadataOf(request.object);
  const fields = {
    uid: request.uid,
    operation: request.operation,
    kind: request.kind.kind,
    namespace: request.namespace ?? meta.namespace,
    name: request.name ?? meta.name,
    generateName: meta.generateName,
    dryRun: request.dryRun,
  };
  const base = { injected: [], warnings: [], dryRun: request.dryRun, fields };
  if (!isPodCreate(request)) {
    return { ...base, status: 200, body: admissionResponse(request.uid), result: "ignored" };
  }
  if (request.object === undefined) return invalid("request.object is missing: a Pod CREATE must carry the pod", fields);
  const pod = request.object as Pod;
  try {
    const context = request.namespace === undefined ? {} : { namespace: request.namespace };
    const result = inject(pod, options, context);
    const patch = podPatch(pod, result.pod);
    return {
      ...base,
      status: 200,
      body: admissionResponse(request.uid, patch, result.warnings),
      result: result.injected.length > 0 ? "injected" : "skipped",
      injected: result.injected,
      warnings: result.warnings,
      ...(result.injected.length === 0 ? { skipped: result.skipped ?? "nothing-injected" } : {}),
    };
  } catch (e) {
    // The injector is meant to be total; if it is not, admit the pod unchanged and say why, rather
    // than a 500 that the API server would turn into an opaque failure.
    const message = e instanceof Error ? e.message : String(e);
    const warning = `tailcar: injection failed, pod admitted unchanged: ${message}`;
    return { ...base, status: 200, body: admissionResponse(request.uid, [], [warning]), result: "error", warnings: [warning] };
  }
}

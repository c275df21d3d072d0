// Elasticsearch/OpenSearch _bulk: NDJSON framing, deterministic ids, and reading the per-item answer.
// Pure functions; the HTTP shell is elasticsearch.ts.

import { createHash } from "node:crypto";
import type { PodMetadata } from "../config.ts";
import { isoNanos, type LineSource, type LogLine } from "./records.ts";

export const DEFAULT_INDEX = "tailcar-logs";

/**
 * Same line of the same file incarnation → same id, so a resend is answered 409 (already there)
 * instead of being stored twice. The pod is part of it because two pods can follow equal paths.
 * A hash of the source (once per source, not per line: hashing each line cost ~30 µs) + the offset.
 */
export function documentId(source: LineSource & { readonly fileKey: string }, offset: number): string {
  return `${sourceHash(source)}-${offset}`;
}

const sourceHashes = new WeakMap<LineSource, string>();

function sourceHash(source: LineSource & { readonly fileKey: string }): string {
  let h = sourceHashes.get(source);
  if (h === undefined) {
    const pod = `${source.pod.podNamespace ?? ""}/${source.pod.podName ?? ""}`;
    h = createHash("sha256").update(`${pod}\0${source.file}\0${source.fileKey}`).digest("base64url").slice(0, 22);
    sourceHashes.set(source, h);
  }
  return h;
}

/** The two NDJSON lines of one document, each ending "\n"; kept apart so failed items can be resent alone. */
export function bulkItem(line: LogLine, source: LineSource, index: string): string {
  const { fileKey } = source;
  const id = fileKey !== undefined && line.offset !== undefined ? `,"_id":"${sourceHash(source as LineSource & { fileKey: string })}-${line.offset}"` : "";
  const offset = line.offset !== undefined ? `,"offset":${line.offset}` : "";
  return `{"create":{"_index":${JSON.stringify(index)}${id}}}\n{"@timestamp":"${isoNanos(line.timeNs)}","message":${JSON.stringify(line.text)},"file":${JSON.stringify(source.file)}${offset}${podFields(source.pod)}}\n`;
}

const podFieldCache = new WeakMap<PodMetadata, string>();

/** The pod's fields as JSON members (",\"pod\":\"x\",…"), the same for every line: built once. */
function podFields(pod: PodMetadata): string {
  let s = podFieldCache.get(pod);
  if (s === undefined) {
    s = "";
    if (pod.podName !== undefined) s += `,"pod":${JSON.stringify(pod.podName)}`;
    if (pod.podNamespace !== undefined) s += `,"namespace":${JSON.stringify(pod.podNamespace)}`;
    if (pod.nodeName !== undefined) s += `,"node":${JSON.stringify(pod.nodeName)}`;
    if (pod.containerName !== undefined) s += `,"container":${JSON.stringify(pod.containerName)}`;
    podFieldCache.set(pod, s);
  }
  return s;
}

/**
 * Headers that VictoriaLogs reads to map our fields (Elasticsearch and OpenSearch ignore them):
 * without them VictoriaLogs would find no _msg and take the arrival time.
 */
export const VICTORIALOGS_HEADERS = {
  "VL-Msg-Field": "message",
  "VL-Time-Field": "@timestamp",
  "VL-Stream-Fields": "namespace,pod,container,file",
} as const;

export type ItemOutcome =
  /** duplicate: the backend already had it (409 on create), an earlier attempt stored it. */
  | { readonly kind: "ok"; readonly duplicate: boolean }
  | { readonly kind: "retry"; readonly status: number; readonly reason: string }
  | { readonly kind: "drop"; readonly status: number; readonly reason: string };

/** One outcome per sent item, or an error if the answer can't be matched to what was sent. */
export type BulkAnswer = { readonly ok: true; readonly items: readonly ItemOutcome[] } | { readonly ok: false; readonly error: string };

const OK: ItemOutcome = { kind: "ok", duplicate: false };
const DUPLICATE: ItemOutcome = { kind: "ok", duplicate: true };

/**
 * Outcome of one item by its status: 409 on `create` means an earlier attempt already stored it.
 * 401/403 (Elasticsearch's security_exception for a user without rights on the index) is retried,
 * not dropped: it is fixed by an operator, and the file holds the lines until then.
 */
export function itemOutcome(status: number, reason: string): ItemOutcome {
  if (status >= 200 && status < 300) return OK;
  if (status === 409) return DUPLICATE;
  if (status === 429 || status >= 500 || status === 401 || status === 403) return { kind: "retry", status, reason };
  return { kind: "drop", status, reason };
}

function errorReason(error: unknown): string {
  if (typeof error === "string") return error;
  if (error !== null && typeof error === "object") {
    const e = error as { type?: unknown; reason?: unknown };
    const parts = [e.type, e.reason].filter((p): p is string => typeof p === "string");
    if (parts.length > 0) return parts.join(": ");
  }
  return JSON.stringify(error) ?? "unknown error";
}

/** Reads a 2xx _bulk answer for `sent` items. */
export function parseBulkResponse(body: string, sent: number): BulkAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, error: `_bulk answer is not JSON: ${body.slice(0, 200)}` };
  }
  if (parsed === null || typeof parsed !== "object") return { ok: false, error: "_bulk answer is not an object" };
  const { errors, items } = parsed as { errors?: unknown; items?: unknown };
  if (errors === false) return { ok: true, items: Array.from({ length: sent }, () => OK) };
  if (!Array.isArray(items)) return { ok: false, error: '_bulk answer has "errors" but no "items" array' };
  if (items.length !== sent) return { ok: false, error: `_bulk answer has ${items.length} items for ${sent} sent` };
  const outcomes = items.map((item: unknown): ItemOutcome => {
    const result = item !== null && typeof item === "object" ? Object.values(item)[0] : undefined;
    if (result === null || typeof result !== "object") return { kind: "retry", status: 0, reason: "item without a result" };
    const { status, error } = result as { status?: unknown; error?: unknown };
    if (typeof status !== "number") return { kind: "retry", status: 0, reason: "item without a status" };
    return itemOutcome(status, error === undefined ? `status ${status}` : errorReason(error));
  });
  return { ok: true, items: outcomes };
}

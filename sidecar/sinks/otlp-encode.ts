// OTLP/HTTP logs in protobuf (opentelemetry-proto, collector/logs/v1): the ExportLogsServiceRequest
// for lines of one source, and reading the ExportLogsServiceResponse's partial success.
// Protobuf, not OTLP/JSON: the collector's otlphttp exporter sends it by default, and VictoriaLogs
// takes nothing else (docs/decisions.md, "OTLP in protobuf"). Pure functions; the shell is otlp.ts.
//
// What is written, by field number:
//   ExportLogsServiceRequest { 1 resource_logs: ResourceLogs }
//   ResourceLogs { 1 resource: Resource { 1 attributes: KeyValue* }, 2 scope_logs: ScopeLogs }
//   ScopeLogs    { 2 log_records: LogRecord* }                     (no scope: none to name)
//   LogRecord    { 1 time_unix_nano: fixed64, 5 body: AnyValue { 1 string_value },
//                  6 attributes: KeyValue (log.file.path), 11 observed_time_unix_nano: fixed64 }
//   KeyValue     { 1 key: string, 2 value: AnyValue { 1 string_value } }
// Severity is left unset (0, SEVERITY_NUMBER_UNSPECIFIED): the sidecar does not parse lines.

import type { PodMetadata } from "../config.ts";
import { WIRE, ProtobufError, readFields, tag, varintSize, writeVarint } from "./protobuf.ts";
import type { LineSource, LogLine } from "./records.ts";

export const OTLP_LOGS_PATH = "/v1/logs";

/** OpenTelemetry semantic conventions (k8s.*, log.file.*) for what the sidecar knows. */
export const ATTRIBUTES = {
  namespace: "k8s.namespace.name",
  pod: "k8s.pod.name",
  container: "k8s.container.name",
  node: "k8s.node.name",
  filePath: "log.file.path",
} as const;

/** The resource's attributes: the pod's metadata that is known, in a fixed order. */
export function resourceAttributes(pod: PodMetadata): [string, string][] {
  const attrs: [string, string][] = [];
  if (pod.podNamespace !== undefined) attrs.push([ATTRIBUTES.namespace, pod.podNamespace]);
  if (pod.podName !== undefined) attrs.push([ATTRIBUTES.pod, pod.podName]);
  if (pod.containerName !== undefined) attrs.push([ATTRIBUTES.container, pod.containerName]);
  if (pod.nodeName !== undefined) attrs.push([ATTRIBUTES.node, pod.nodeName]);
  return attrs;
}

const KEY = tag(1, WIRE.LEN);
const VALUE = tag(2, WIRE.LEN);
const STRING_VALUE = tag(1, WIRE.LEN);

/** A LEN field: its tag, length and bytes. */
function lenField(fieldTag: number, content: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(1 + varintSize(content.length) + content.length);
  out[0] = fieldTag;
  out.set(content, writeVarint(out, 1, content.length));
  return out;
}

/** A KeyValue with a string value, as the LEN field `fieldTag` of its parent. */
function keyValueField(fieldTag: number, key: string, value: string): Buffer {
  const any = lenField(STRING_VALUE, Buffer.from(value, "utf8"));
  return lenField(fieldTag, Buffer.concat([lenField(KEY, Buffer.from(key, "utf8")), lenField(VALUE, any)]));
}

const RESOURCE_ATTRIBUTE = tag(1, WIRE.LEN);
const RESOURCE = tag(1, WIRE.LEN);
const SCOPE_LOGS = tag(2, WIRE.LEN);
const LOG_RECORD = tag(2, WIRE.LEN);
const RESOURCE_LOGS = tag(1, WIRE.LEN);
const TIME = tag(1, WIRE.I64);
const BODY = tag(5, WIRE.LEN);
const RECORD_ATTRIBUTE = tag(6, WIRE.LEN);
const OBSERVED_TIME = tag(11, WIRE.I64);

const resourceCache = new WeakMap<PodMetadata, Buffer>();

/** ResourceLogs' field 1 (the Resource with the pod's attributes): the same for every request, built once. */
function resourceField(pod: PodMetadata): Buffer {
  let b = resourceCache.get(pod);
  if (b === undefined) {
    b = lenField(RESOURCE, Buffer.concat(resourceAttributes(pod).map(([k, v]) => keyValueField(RESOURCE_ATTRIBUTE, k, v))));
    resourceCache.set(pod, b);
  }
  return b;
}

// A request holds lines of one file, and consecutive requests mostly the same file: one entry.
let lastPath: string | undefined;
let lastPathAttribute: Buffer = Buffer.alloc(0);

/** LogRecord's field 6 for log.file.path = `file`. */
function filePathAttribute(file: string): Buffer {
  if (file !== lastPath) {
    lastPathAttribute = keyValueField(RECORD_ATTRIBUTE, ATTRIBUTES.filePath, file);
    lastPath = file;
  }
  return lastPathAttribute;
}

/**
 * The ExportLogsServiceRequest for `lines` of one source, in one buffer: sizes are computed
 * first so every byte is written once, in place. Each line's time is both time_unix_nano and
 * observed_time_unix_nano: the read time, the same the other sinks send.
 */
export function exportLogsRequest(lines: readonly LogLine[], source: LineSource): Buffer {
  const resource = resourceField(source.pod);
  const path = filePathAttribute(source.file);
  const n = lines.length;
  const textBytes = new Array<number>(n);
  const recordBytes = new Array<number>(n);
  let scope = 0;
  for (let i = 0; i < n; i++) {
    const t = Buffer.byteLength(lines[i]!.text, "utf8");
    const any = 1 + varintSize(t) + t;
    const record = 9 + 1 + varintSize(any) + any + path.length + 9;
    textBytes[i] = t;
    recordBytes[i] = record;
    scope += 1 + varintSize(record) + record;
  }
  const resourceLogs = resource.length + 1 + varintSize(scope) + scope;
  const total = 1 + varintSize(resourceLogs) + resourceLogs;
  const buf = Buffer.allocUnsafe(total);
  buf[0] = RESOURCE_LOGS;
  let pos = writeVarint(buf, 1, resourceLogs);
  pos += resource.copy(buf, pos);
  buf[pos++] = SCOPE_LOGS;
  pos = writeVarint(buf, pos, scope);
  for (let i = 0; i < n; i++) {
    const line = lines[i]!;
    const t = textBytes[i]!;
    buf[pos++] = LOG_RECORD;
    pos = writeVarint(buf, pos, recordBytes[i]!);
    buf[pos++] = TIME;
    pos = buf.writeBigUInt64LE(line.timeNs, pos);
    buf[pos++] = BODY;
    pos = writeVarint(buf, pos, 1 + varintSize(t) + t);
    buf[pos++] = STRING_VALUE;
    pos = writeVarint(buf, pos, t);
    pos += buf.write(line.text, pos, t, "utf8");
    pos += path.copy(buf, pos);
    buf[pos++] = OBSERVED_TIME;
    pos = buf.writeBigUInt64LE(line.timeNs, pos);
  }
  if (pos !== total) throw new Error(`exportLogsRequest: wrote ${pos} bytes of ${total}`);
  return buf;
}

/** What a 2xx answer says: how many records the backend rejected (partial success), and why. */
export type ExportAnswer = { readonly ok: true; readonly rejected: number; readonly message: string } | { readonly ok: false; readonly error: string };

/**
 * Reads an ExportLogsServiceResponse { 1 partial_success: { 1 rejected_log_records: int64,
 * 2 error_message: string } }: protobuf, or OTLP/JSON when the server answers in JSON (its first
 * byte is "{", which no protobuf answer starts with). An empty body is a full success.
 */
export function parseExportResponse(body: Uint8Array): ExportAnswer {
  if (body.length === 0) return { ok: true, rejected: 0, message: "" };
  if (body[0] === 0x7b) return parseJsonResponse(Buffer.from(body.buffer, body.byteOffset, body.length).toString("utf8"));
  try {
    let rejected = 0;
    let message = "";
    for (const f of readFields(body)) {
      if (f.field !== 1 || f.wire !== WIRE.LEN) continue;
      for (const p of readFields(f.bytes)) {
        if (p.field === 1 && p.wire === WIRE.VARINT) rejected = Number(BigInt.asIntN(64, p.value));
        else if (p.field === 2 && p.wire === WIRE.LEN) message = Buffer.from(p.bytes).toString("utf8");
      }
    }
    return { ok: true, rejected: Math.max(0, rejected), message };
  } catch (e) {
    if (e instanceof ProtobufError) return { ok: false, error: `OTLP answer is not an ExportLogsServiceResponse: ${e.message}` };
    throw e;
  }
}

function parseJsonResponse(text: string): ExportAnswer {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, error: `OTLP answer is not JSON: ${text.slice(0, 200)}` };
  }
  const partial = parsed !== null && typeof parsed === "object" ? (parsed as { partialSuccess?: unknown }).partialSuccess : undefined;
  if (partial === null || typeof partial !== "object") return { ok: true, rejected: 0, message: "" };
  const { rejectedLogRecords, errorMessage } = partial as { rejectedLogRecords?: unknown; errorMessage?: unknown };
  // int64 is a decimal string in OTLP/JSON; a number is accepted too.
  const rejected = typeof rejectedLogRecords === "string" || typeof rejectedLogRecords === "number" ? Number(rejectedLogRecords) : 0;
  return { ok: true, rejected: Number.isFinite(rejected) ? Math.max(0, Math.trunc(rejected)) : 0, message: typeof errorMessage === "string" ? errorMessage : "" };
}

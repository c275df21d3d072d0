// The OTLP sink's pure parts: protobuf varints and fields, the ExportLogsServiceRequest it writes
// (byte for byte for a small case, read back for random ones), and the export answer it reads.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ATTRIBUTES, exportLogsRequest, parseExportResponse, resourceAttributes } from "../../sidecar/sinks/otlp-encode.ts";
import { WIRE, ProtobufError, readFields, varintSize, writeVarint, type ProtoField } from "../../sidecar/sinks/protobuf.ts";
import type { LineSource, LogLine } from "../../sidecar/sinks/records.ts";
import type { PodMetadata } from "../../sidecar/config.ts";

test("varints: the protobuf encoding of known values, and their size", () => {
  for (const [n, hex] of [
    [0, "00"], [1, "01"], [127, "7f"], [128, "8001"], [300, "ac02"], [16_383, "ff7f"], [16_384, "808001"],
    [2 ** 32, "8080808010"], [Number.MAX_SAFE_INTEGER, "ffffffffffffff0f"],
  ] as const) {
    const buf = Buffer.alloc(10);
    const end = writeVarint(buf, 0, n);
    assert.equal(buf.subarray(0, end).toString("hex"), hex, `varint ${n}`);
    assert.equal(varintSize(n), end, `varintSize(${n})`);
    const [field] = readFields(Buffer.concat([Buffer.from([0x08]), buf.subarray(0, end)]));
    assert.deepEqual(field, { field: 1, wire: WIRE.VARINT, value: BigInt(n) });
  }
});

test("readFields rejects malformed messages with a ProtobufError, never reading past the end", () => {
  for (const [hex, why] of [
    ["0a05616263", /past the end/],
    ["08", /truncated varint/],
    ["09010203", /truncated fixed64/],
    ["0b", /wire type 3/],
    ["00", /field number 0/],
    ["08ffffffffffffffffffff01", /longer than 10 bytes/],
  ] as const) assert.throws(() => readFields(Buffer.from(hex, "hex")), (e: unknown) => e instanceof ProtobufError && why.test(e.message), hex);
});

const T = 1_700_000_000_123_456_789n;

test("one line, one pod attribute: the request byte for byte", () => {
  const got = exportLogsRequest([{ text: "hi", offset: 0, timeNs: 1n }], { file: "/f", fileKey: undefined, pod: { podName: "p" } });
  const str = (s: string) => Buffer.from(s).toString("hex");
  const fixed1 = "0100000000000000";
  // KeyValue{key, value: AnyValue{string_value}}
  const podKv = `0a0c${str("k8s.pod.name")}1203` + `0a01${str("p")}`; // 19 bytes
  const resource = `0a15` + `0a13${podKv}`; // ResourceLogs.resource = Resource{attributes}
  const pathKv = `0a0d${str("log.file.path")}1204` + `0a02${str("/f")}`; // 21 bytes
  const record = `09${fixed1}` + `2a04` + `0a02${str("hi")}` + `3215${pathKv}` + `59${fixed1}`; // 47 bytes
  const scopeLogs = `1231` + `122f${record}`; // ResourceLogs.scope_logs = ScopeLogs{log_records} of 49 bytes
  assert.equal(got.toString("hex"), `0a4a${resource}${scopeLogs}`);
});

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("utf8");
}

function only(fields: ProtoField[], field: number): Uint8Array[] {
  return fields.filter((f) => f.field === field).map((f) => {
    assert.equal(f.wire, WIRE.LEN, `field ${field} is not LEN`);
    return (f as { bytes: Uint8Array }).bytes;
  });
}

function keyValue(bytes: Uint8Array): [string, string] {
  const kv = readFields(bytes);
  const [value] = only(readFields(only(kv, 2)[0]!), 1);
  return [text(only(kv, 1)[0]!), text(value!)];
}

function fixed(fields: ProtoField[], field: number): bigint | undefined {
  const f = fields.find((x) => x.field === field);
  if (f === undefined) return undefined;
  assert.equal(f.wire, WIRE.I64);
  return (f as { value: bigint }).value;
}

/** Reads a request back with the generic field reader: what a decoder following opentelemetry-proto sees. */
function decodeRequest(buf: Uint8Array) {
  const [resourceLogs, ...more] = only(readFields(buf), 1);
  assert.equal(more.length, 0, "one ResourceLogs");
  const rl = readFields(resourceLogs!);
  const resource = only(readFields(only(rl, 1)[0]!), 1).map(keyValue);
  const [scope, ...moreScopes] = only(rl, 2);
  assert.equal(moreScopes.length, 0, "one ScopeLogs");
  const records = only(readFields(scope!), 2).map((r) => {
    const f = readFields(r);
    assert.deepEqual(f.map((x) => x.field), [1, 5, 6, 11], "fields in number order; no severity");
    return { time: fixed(f, 1), observed: fixed(f, 11), body: text(only(readFields(only(f, 5)[0]!), 1)[0]!), attributes: only(f, 6).map(keyValue) };
  });
  return { resource, records };
}

const podArb: fc.Arbitrary<PodMetadata> = fc.record(
  { podName: fc.string({ unit: "grapheme", maxLength: 70 }), podNamespace: fc.string({ maxLength: 70 }), nodeName: fc.string({ maxLength: 300 }), containerName: fc.string({ maxLength: 70 }) },
  { requiredKeys: [] },
);

test("property: every line, its time, the file path and the pod's metadata read back as they were", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ unit: "grapheme", maxLength: 300 }), { minLength: 1, maxLength: 40 }),
      fc.string({ unit: "grapheme", minLength: 1, maxLength: 200 }),
      podArb,
      fc.bigInt({ min: 0n, max: 2n ** 63n }),
      (texts, file, pod, t0) => {
        const lines: LogLine[] = texts.map((t, i) => ({ text: t, offset: i, timeNs: t0 + BigInt(i) }));
        const source: LineSource = { file, fileKey: undefined, pod };
        const got = decodeRequest(exportLogsRequest(lines, source));
        assert.deepEqual(got.resource, resourceAttributes(pod));
        assert.deepEqual(got.records, lines.map((l) => ({ time: l.timeNs, observed: l.timeNs, body: l.text, attributes: [[ATTRIBUTES.filePath, file]] })));
      },
    ),
    { numRuns: 300 },
  );
});

test("long lines and many records: lengths past one-byte varints are framed right", () => {
  const long = "x".repeat(300_000);
  const lines: LogLine[] = [{ text: long, offset: 0, timeNs: T }, ...Array.from({ length: 10_000 }, (_, i) => ({ text: `line ${i} é😀`, offset: i + 1, timeNs: T + BigInt(i + 1) }))];
  const got = decodeRequest(exportLogsRequest(lines, { file: "/var/log/app.log", fileKey: undefined, pod: {} }));
  assert.deepEqual(got.resource, []);
  assert.equal(got.records.length, 10_001);
  assert.equal(got.records[0]!.body, long);
  assert.equal(got.records[10_000]!.body, "line 9999 é😀");
});

test("resource attributes follow the OpenTelemetry Kubernetes conventions, only those known", () => {
  assert.deepEqual(resourceAttributes({ podName: "app-1", podNamespace: "shop", nodeName: "node-a", containerName: "error-log" }), [
    ["k8s.namespace.name", "shop"], ["k8s.pod.name", "app-1"], ["k8s.container.name", "error-log"], ["k8s.node.name", "node-a"],
  ]);
  assert.deepEqual(resourceAttributes({ podName: "app-1" }), [["k8s.pod.name", "app-1"]]);
});

test("the export answer: empty or without partial success is full success; rejected records and the message are read from protobuf or JSON", () => {
  const partial = (rejected: string, message: string) => {
    const msg = Buffer.from(message);
    const inner = Buffer.concat([Buffer.from(`08${rejected}`, "hex"), Buffer.from([0x12, msg.length]), msg]);
    return Buffer.concat([Buffer.from([0x0a, inner.length]), inner]);
  };
  for (const [body, want] of [
    [Buffer.alloc(0), { ok: true, rejected: 0, message: "" }],
    [Buffer.from("0a00", "hex"), { ok: true, rejected: 0, message: "" }],
    [partial("03", "3 too old"), { ok: true, rejected: 3, message: "3 too old" }],
    [partial("ac02", ""), { ok: true, rejected: 300, message: "" }],
    [Buffer.from("{}"), { ok: true, rejected: 0, message: "" }],
    [Buffer.from('{"partialSuccess":{"rejectedLogRecords":"2","errorMessage":"bad"}}'), { ok: true, rejected: 2, message: "bad" }],
    [Buffer.from('{"partialSuccess":{}}'), { ok: true, rejected: 0, message: "" }],
  ] as const) assert.deepEqual(parseExportResponse(body), want, body.toString("hex"));
  assert.match((parseExportResponse(Buffer.from("0a05", "hex")) as { error: string }).error, /not an ExportLogsServiceResponse: .*past the end/);
  assert.match((parseExportResponse(Buffer.from("{oops")) as { error: string }).error, /not JSON/);
});

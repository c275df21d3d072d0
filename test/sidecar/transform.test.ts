import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createTransform } from "../../sidecar/transform.ts";
import { jsonConfig as config } from "./harness.ts";

interface Rec {
  time: string;
  file: string;
  log: string;
  [k: string]: unknown;
}

function records(out: Buffer): Rec[] {
  const text = out.toString("utf8");
  assert.ok(text === "" || text.endsWith("\n"), `output must end with a newline: ${JSON.stringify(text)}`);
  return text.split("\n").slice(0, -1).map((l) => JSON.parse(l) as Rec);
}

test("json writes one record per line with time, file, log, in order, and covers the whole input", () => {
  const t = createTransform(config(), "/var/log/app.log");
  const before = Date.now();
  const r = t.push(Buffer.from("first\n\nthird line\n"), 300);
  const recs = records(r.out);
  assert.deepEqual(recs.map((x) => x.log), ["first", "", "third line"]);
  assert.equal(r.safeOffset, 300);
  assert.equal(t.pending, false);
  for (const rec of recs) {
    assert.deepEqual(Object.keys(rec), ["time", "file", "log"]);
    assert.equal(rec.file, "/var/log/app.log");
    assert.match(rec.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Date.parse(rec.time) >= before - 1 && Date.parse(rec.time) <= Date.now() + 1, rec.time);
  }
});

test("json adds pod, namespace, node and container when the config has them", () => {
  const pod = { podName: "web-1", podNamespace: "shop", nodeName: "n\"1", containerName: "app" };
  const t = createTransform(config({ pod }), "/logs/a b.log");
  const [rec] = records(t.push(Buffer.from("hello\n"), 6).out);
  assert.deepEqual(rec, { time: rec!.time, file: "/logs/a b.log", log: "hello", pod: "web-1", namespace: "shop", node: 'n"1', container: "app" });
});

test("json leaves out pod fields that are not set", () => {
  const t = createTransform(config({ pod: { podName: "p" } }), "f");
  const [rec] = records(t.push(Buffer.from("x\n"), 2).out);
  assert.deepEqual(Object.keys(rec!), ["time", "file", "log", "pod"]);
});

test("json escapes quotes, backslashes and every control character", () => {
  const t = createTransform(config(), "f");
  let line = '"q" \\b ';
  for (let c = 0; c < 0x20; c++) if (c !== 0x0a) line += String.fromCharCode(c);
  line += "\u007f é 日本 😀 \u2028";
  const r = t.push(Buffer.from(line + "\n"), 1);
  assert.deepEqual(records(r.out).map((x) => x.log), [line]);
  assert.ok(!/[\u0000-\u001f]/.test(r.out.toString("utf8").slice(0, -1)), "no raw control character in the output");
});

test("json turns invalid UTF-8 into replacement characters and keeps the rest of the line", () => {
  const t = createTransform(config(), "f");
  const bad = Buffer.from([0x61, 0xff, 0x62, 0xc3, 0x0a, 0xed, 0xa0, 0x80, 0x63, 0x0a]); // a\xffb\xc3 \n, CESU surrogate + c
  const recs = records(t.push(bad, 10).out);
  assert.deepEqual(recs.map((x) => x.log), ["a\ufffdb\ufffd", "\ufffd\ufffd\ufffdc"]);
});

test("json keeps a carriage return of CRLF lines, escaped", () => {
  const t = createTransform(config(), "f");
  assert.deepEqual(records(t.push(Buffer.from("a\r\n"), 3).out).map((x) => x.log), ["a\r"]);
});

test("json output does not change when the caller reuses its input buffer", () => {
  const t = createTransform(config(), "f");
  const input = Buffer.from("abc\n");
  const { out } = t.push(input, 4);
  input.fill(0x7a);
  assert.equal(records(out)[0]!.log, "abc");
});

test("without reuseOutput, an output stays intact after later pushes", () => {
  const t = createTransform(config(), "f");
  const first = t.push(Buffer.from("one\n"), 4).out;
  t.push(Buffer.from("two\n"), 8);
  assert.deepEqual(records(first).map((r) => r.log), ["one"]);
});

test("with reuseOutput, each output is right when read before the next push, and built in the same memory", () => {
  for (const multiline of [undefined, "java"]) {
    const t = createTransform(config({ multiline }), "f", { reuseOutput: true });
    const a = t.push(Buffer.from("one\n"), 4).out;
    assert.deepEqual(records(a).map((r) => r.log), ["one"]);
    const b = t.push(Buffer.from("two\n"), 8).out;
    const c = t.flush().out;
    assert.deepEqual([...records(b), ...records(c)].map((r) => r.log), ["two"]);
    if (multiline === undefined) assert.equal(a.buffer, b.buffer, "no new memory for the second output");
  }
});

test("property: any bytes, split into lines, come back from JSON.parse as the lines decoded as UTF-8", () => {
  const t = createTransform(config(), "f");
  const decoder = new TextDecoder("utf-8");
  // Any Unicode scalar value (fc.string's "binary" unit does this too, but ten times slower).
  const codePoints = fc.array(fc.oneof(fc.integer({ min: 0, max: 0xd7ff }), fc.integer({ min: 0xe000, max: 0x10ffff })), { maxLength: 30 });
  const line = fc.uint8Array({ maxLength: 60 }).map((a) => a.filter((b) => b !== 0x0a));
  const lineArb = fc.oneof(line, codePoints.map((cps) => Buffer.from(String.fromCodePoint(...cps).replaceAll("\n", ""), "utf8")));
  fc.assert(
    fc.property(fc.array(lineArb, { minLength: 1, maxLength: 8 }), (lines) => {
      const input = Buffer.concat(lines.flatMap((l) => [Buffer.from(l), Buffer.from("\n")]));
      const { out, safeOffset } = t.push(input, 1000 + input.length);
      const recs = records(out);
      assert.deepEqual(recs.map((x) => x.log), lines.map((l) => decoder.decode(l)));
      // Byte for byte what JSON.stringify writes: the same escapes, nothing else escaped.
      assert.deepEqual(out.toString("utf8").split("\n").slice(0, -1), recs.map((r) => JSON.stringify(r)));
      assert.equal(safeOffset, 1000 + input.length);
    }),
    { numRuns: 1000 },
  );
});

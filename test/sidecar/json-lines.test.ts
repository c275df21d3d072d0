// The JSON encoders of --format json, WebAssembly (json-lines-wasm.ts) and JavaScript
// (json-lines.ts, its fallback), against the per-line one they replaced (RecordEncoder.appendLines,
// which multiline mode still uses) and against JSON.stringify of the record: byte for byte, on
// lines chosen to hit every branch of their scans. Every test runs for both.
import { test } from "node:test";
import assert from "node:assert/strict";
import { frameLines } from "../../sidecar/framing.ts";
import { JsonLinesEncoder } from "../../sidecar/json-lines.ts";
import { WasmJsonLinesEncoder, jsonLinesEncoder } from "../../sidecar/json-lines-wasm.ts";
import { RecordEncoder, recordParts } from "../../sidecar/json-record.ts";
import { ByteBuilder } from "../../sidecar/transform-bytes.ts";

const FILE = "/var/log/app.log";
const POD = { podName: "web-7d9f", podNamespace: "shop", nodeName: "node-1", containerName: "app" };
const TIME = Date.UTC(2026, 11, 5, 10, 28, 13, 36);

/** What the per-line encoder writes for these bytes. */
function perLine(input: Buffer, pod = POD): Buffer {
  const enc = new RecordEncoder(FILE, pod);
  enc.setTime(TIME);
  const out = new ByteBuilder();
  enc.appendLines(out, input, 0, input.length);
  return out.take();
}

/** JSON.stringify of each line's record, the line decoded as UTF-8 (bad bytes become U+FFFD). */
function stringified(input: Buffer, pod = POD): string {
  const text = new TextDecoder("utf-8").decode(input);
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  const time = new Date(TIME).toISOString();
  return lines.map((log) => JSON.stringify({ time, file: FILE, log, pod: pod.podName, namespace: pod.podNamespace, node: pod.nodeName, container: pod.containerName }) + "\n").join("");
}

const b = (s: string): Buffer => Buffer.from(s, "utf8");

const ENCODERS = [
  ["webassembly", WasmJsonLinesEncoder],
  ["javascript", JsonLinesEncoder],
] as const;

for (const [kind, Encoder] of ENCODERS) {
  function encoded(input: Buffer, pod = POD): Buffer {
    const enc = new Encoder(recordParts(FILE, pod));
    enc.setTime(TIME);
    return Buffer.from(enc.encode(input, 0, input.length));
  }

  const CASES: [string, Buffer][] = [
    ["plain", b("hello world\n")],
    ["quotes", b('say "hi" and ""\n"\n')],
    ["backslashes", b("C:\\path\\to\\ \\\\ \\n \\u0041\n\\\n")],
    ["every control character but newline", Buffer.from([...Array.from({ length: 32 }, (_, i) => i).filter((c) => c !== 0x0a), 0x0a])],
    ["DEL is not escaped", b("a\u007fb\n")],
    ["U+2028 and U+2029 are written as they are", b("line\u2028sep\u2029par\n")],
    ["2-, 3- and 4-byte characters", b("é ß 日本語 😀𝄞 \u{10ffff}\n")],
    ["empty lines", b("\n\n\na\n\n")],
    ["only newlines, a chunk's worth", b("\n".repeat(5000))],
    ["CRLF", b("a\r\nb\r\n\r\n")],
    ["last line without a newline", b("a\nunfinished")],
    ["last line without a newline ending in a backslash", b("a\nb\\")],
    ["a single byte, no newline", b("x")],
    ["invalid: lone continuation and 0xff", Buffer.from([0x61, 0x80, 0x62, 0xff, 0x0a])],
    ["invalid: lead byte cut at the line's end", Buffer.from([0x61, 0xe2, 0x82, 0x0a, 0xf0, 0x9f, 0x0a])],
    ["invalid: overlong and surrogate (CESU-8)", Buffer.from([0xc0, 0xaf, 0x0a, 0xed, 0xa0, 0x80, 0xed, 0xb0, 0x80, 0x0a])],
    ["invalid: beyond U+10FFFF", Buffer.from([0xf4, 0x90, 0x80, 0x80, 0x0a])],
    ["invalid bytes next to quotes and controls", Buffer.from([0x22, 0xff, 0x5c, 0x01, 0xc3, 0x22, 0x0a])],
    // What the follower hands over for a line over --max-line-bytes: pieces with the marker, one
    // of them cut inside a 4-byte character.
    ["max-line-bytes pieces, a character cut", frameLines(b("ab😀cd\n"), 4).out],
    ["max-line-bytes pieces of a long line", frameLines(b(`${"x".repeat(100)}"${"y".repeat(100)}\\\n`), 64).out],
  ];

  for (const [name, input] of CASES) {
    test(`json lines (${kind}): ${name}: the same bytes as the per-line encoder and as JSON.stringify`, () => {
      const out = encoded(input);
      assert.equal(out.toString("latin1"), perLine(input).toString("latin1"));
      assert.equal(out.toString("utf8"), stringified(input));
    });
  }

  test(`json lines (${kind}): a byte that needs escaping at every offset of the scan's words (8 bytes) and blocks (32), in lines of every length up to 72`, () => {
    const enc = new Encoder(recordParts(FILE, POD));
    enc.setTime(TIME);
    for (const special of [0x0a, 0x22, 0x5c, 0x09, 0x00, 0x1f]) {
      for (let len = 0; len <= 72; len++) {
        for (let at = 0; at < len; at++) {
          const line = Buffer.alloc(len, 0x61);
          line[at] = special;
          for (const input of [Buffer.concat([line, b("\n")]), line, Buffer.concat([b("é"), line, b("\nz\n")])]) {
            if (input.length === 0) continue;
            assert.equal(enc.encode(input, 0, input.length).toString("latin1"), perLine(input).toString("latin1"), `byte ${special} at ${at} of ${len}`);
          }
        }
      }
    }
  });

  test(`json lines (${kind}): any lines of random bytes, at any offset of the source buffer, encode as the per-line encoder does`, () => {
    let seed = 17;
    const rand = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    };
    const alphabet = [0x0a, 0x22, 0x5c, 0x09, 0x0d, 0x00, 0x61, 0x7a, 0x20, 0xc3, 0xa9, 0xe2, 0x80, 0xa8, 0xf0, 0x9f, 0x98, 0x80, 0xff];
    const enc = new Encoder(recordParts(FILE, POD));
    enc.setTime(TIME);
    for (let r = 0; r < 3000; r++) {
      const len = Math.floor(rand() * 300);
      const bytes = Buffer.alloc(len);
      for (let i = 0; i < len; i++) bytes[i] = r % 2 === 0 ? alphabet[Math.floor(rand() * alphabet.length)]! : Math.floor(rand() * 256);
      const at = Math.floor(rand() * 9);
      const src = Buffer.concat([Buffer.alloc(at, 0x22), bytes, Buffer.alloc(3, 0x0a)]);
      // One encoder for all: what earlier chunks left in its memory must not leak into later ones.
      assert.equal(enc.encode(src, at, at + len).toString("latin1"), perLine(bytes).toString("latin1"), `round ${r}`);
    }
  });

  test(`json lines (${kind}): chunks of random lines, mostly empty or quotes, whose records outgrow the memory mid-chunk, encode as the per-line encoder does`, () => {
    let seed = 29;
    const rand = (): number => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    };
    // Long pod fields: each newline writes about 250 bytes, each quote 2, so the output is many
    // times the input and the encoder runs out of room at varying places.
    const pod = { podName: "p".repeat(60), podNamespace: "n".repeat(40), nodeName: "node-é".repeat(10), containerName: "c" };
    const enc = new Encoder(recordParts(FILE, pod));
    enc.setTime(TIME);
    for (let r = 0; r < 60; r++) {
      const len = Math.floor(rand() * 40_000);
      const bytes = Buffer.alloc(len);
      for (let i = 0; i < len; i++) bytes[i] = rand() < 0.5 ? 0x0a : rand() < 0.5 ? 0x22 : 0x61 + Math.floor(rand() * 3);
      assert.ok(enc.encode(bytes, 0, len).equals(perLine(bytes, pod)), `round ${r}, ${len} bytes`);
    }
  });

  test(`json lines (${kind}): memory grows for a chunk of empty lines, shrinks after a huge line, and the output stays right`, () => {
    const enc = new Encoder(recordParts(FILE, POD));
    enc.setTime(TIME);
    const chunks = [b("small\n"), b("\n".repeat(100_000)), b(`${"z".repeat(3 * 1024 * 1024)}\n`), b("after\n".repeat(1000)), b('"'.repeat(200_000) + "\n")];
    for (const input of chunks) assert.ok(enc.encode(input, 0, input.length).equals(perLine(input)), `a chunk of ${input.length} bytes`);
  });

  test(`json lines (${kind}): pod fields with quotes and non-ASCII, and none at all`, () => {
    for (const pod of [{ podName: 'we"b', podNamespace: "späß", nodeName: "n\\1", containerName: "😀" }, {}]) {
      const input = b('one\ntwo "2"\n');
      assert.equal(encoded(input, pod as typeof POD).toString("latin1"), perLine(input, pod as typeof POD).toString("latin1"));
    }
  });

  test(`json lines (${kind}): a new time changes the records that follow and nothing else`, () => {
    const enc = new Encoder(recordParts(FILE, {}));
    enc.setTime(Date.UTC(2026, 0, 1));
    const a = enc.encode(b("a\n"), 0, 2).toString();
    enc.setTime(Date.UTC(2027, 5, 6, 7, 8, 9, 10));
    const c = enc.encode(b("c\n"), 0, 2).toString();
    // A year of five digits makes the head longer: the memory is laid out anew.
    enc.setTime(Date.UTC(10000, 0, 1));
    const d = enc.encode(b("d\n"), 0, 2).toString();
    assert.equal(a, '{"time":"2026-01-01T00:00:00.000Z","file":"/var/log/app.log","log":"a"}\n');
    assert.equal(c, '{"time":"2027-06-06T07:08:09.010Z","file":"/var/log/app.log","log":"c"}\n');
    assert.equal(d, '{"time":"+010000-01-01T00:00:00.000Z","file":"/var/log/app.log","log":"d"}\n');
  });

  test(`json lines (${kind}): nothing in, nothing out`, () => {
    const enc = new Encoder(recordParts(FILE, POD));
    enc.setTime(TIME);
    assert.equal(enc.encode(b("abc"), 1, 1).length, 0);
  });
}

test("json lines: the WebAssembly encoder where it can be made, the JavaScript one where its memory is refused, the same records from both", () => {
  const parts = recordParts(FILE, POD);
  const refused = (): WasmJsonLinesEncoder => {
    throw new RangeError("WebAssembly.Instance(): Out of memory: Cannot allocate Wasm memory for new instance");
  };
  const made = jsonLinesEncoder(parts);
  const fallback = jsonLinesEncoder(parts, refused);
  assert.ok(made instanceof WasmJsonLinesEncoder);
  assert.ok(fallback instanceof JsonLinesEncoder);
  const input = b('a "quoted" line\n\tand a tab\n');
  for (const enc of [made, fallback]) enc.setTime(TIME);
  assert.equal(fallback.encode(input, 0, input.length).toString("latin1"), made.encode(input, 0, input.length).toString("latin1"));
  assert.throws(() => jsonLinesEncoder(parts, () => {
    throw new TypeError("a defect, not a refusal");
  }), TypeError);
});

// The YAML stream read document by document (webhook/yaml-stream.ts) gives what parseAllDocuments
// gives on the whole text, wherever the text is cut, one document after the one it completes; and
// the bytes-to-text step (webhook/utf8-text.ts) finds the first byte that is not UTF-8.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { Utf8Text, firstInvalidUtf8 } from "../../webhook/utf8-text.ts";
import { YamlDocumentStream } from "../../webhook/yaml-stream.ts";

const STREAMS = [
  "a: 1\n---\nb: 2\n",
  "# head\na: 1 # x\n# trailing\n---\n# lead b\nb: [1, 2]\n",
  "a: 1\n...\n# between\n---\nb: 2\n...\n",
  "%YAML 1.1\n---\na: yes\n...\n%YAML 1.1\n---\nb: on\n",
  "a: |\n  x\n  --- not a separator\n---\nb: 2\n",
  '{"a": [1, 2,\n 3]}\n',
  "---\n---\na: 1\n---\n",
  "a: 1\r\n---\r\nb: 2\r\n",
  "\uFEFFa: 1\n",
  "a: 1\n---\nb: 2",
  "a: \"x\n  y\"\n---\nb: 'p\n\n  q'\n",
  "a: &x {k: 1}\nb: *x\n---\nc: 3\n",
  "a: 1\n\n\n# c1\n\n---\n\n# c2\n\nb: 2\n\n# end\n",
  "--- a\n--- b\n--- |\n  c\n",
  "name: café ☕ 𝄞\n---\nb: 2\n",
];

function streamed(pieces: readonly string[]): string[] {
  const stream = new YamlDocumentStream(1 << 20);
  const out: string[] = [];
  for (const piece of pieces) for (const { doc } of stream.push(piece)) out.push(doc.toString());
  for (const { doc } of stream.end()) out.push(doc.toString());
  return out;
}

test("read in pieces cut anywhere, a stream gives the documents parseAllDocuments gives, as written", () => {
  for (const text of STREAMS) {
    const whole = parseAllDocuments(text, { version: "1.1" });
    const expected = (Array.isArray(whole) ? whole : []).map((d) => d.toString());
    for (let cut = 0; cut <= text.length; cut++) {
      for (const second of [cut, Math.min(text.length, cut + 3)]) {
        const pieces = [text.slice(0, cut), text.slice(cut, second), text.slice(second)];
        assert.deepEqual(streamed(pieces), expected, `${JSON.stringify(text)} cut at ${cut} and ${second}`);
      }
    }
  }
});

test("a document comes out as soon as the next one begins", () => {
  const stream = new YamlDocumentStream(1 << 20);
  assert.deepEqual([...stream.push("a: 1\n")].map((d) => d.index), []);
  assert.deepEqual([...stream.push("---\nb: 2\n")].map((d) => d.index), [1]);
  assert.deepEqual([...stream.end()].map((d) => d.index), [2]);
});

test("errors name the document and the line of the whole input", () => {
  const cases: [string, RegExp][] = [
    ["a: 1\n---\nb: [unclosed\n", /^document 2: line 4, column 1: /],
    ["a: 1\n---\nb: 1\n---\nc: \u0007\n", /^document 3: line 5, column 4: character U\+0007 is not allowed in YAML/],
    ["a: 1\n---\nb: " + "x".repeat(200) + "\n", /^document 2: line 3, column \d+: the document is larger than the limit of 100 characters/],
  ];
  for (const [text, message] of cases) {
    const stream = new YamlDocumentStream(100);
    assert.throws(() => {
      for (let i = 0; i < text.length; i += 7) [...stream.push(text.slice(i, i + 7))];
      [...stream.end()];
    }, { message }, JSON.stringify(text));
  }
});

test("bytes to text: a character split between chunks is joined, the first byte that is not UTF-8 is found", () => {
  const text = "café ☕ 𝄞 ok";
  const bytes = Buffer.from(text);
  for (let cut = 0; cut <= bytes.length; cut++) {
    const utf8 = new Utf8Text();
    const a = utf8.decode(bytes.subarray(0, cut));
    const b = utf8.decode(bytes.subarray(cut));
    assert.equal(a.text + b.text + utf8.end().text, text);
    assert.equal(a.invalidAt ?? b.invalidAt, undefined);
  }
  const bad: [number[], number][] = [
    [[0x61, 0xff], 1], [[0xc0, 0x80], 0], [[0xed, 0xa0, 0x80], 0], [[0xf4, 0x90, 0x80, 0x80], 0], [[0x61, 0xe2, 0x28, 0xa1], 1], [[0x61, 0x62], -1],
  ];
  for (const [input, at] of bad) assert.equal(firstInvalidUtf8(Uint8Array.from(input)), at, input.join(","));
  const utf8 = new Utf8Text();
  assert.deepEqual(utf8.decode(Buffer.from("ab")), { text: "ab" });
  assert.deepEqual(utf8.decode(Buffer.from([0x63, 0xff, 0x64])), { text: "c", invalidAt: 3 });
  const cut = new Utf8Text();
  assert.deepEqual(cut.decode(Buffer.from([0x61, 0xe2, 0x98])), { text: "a" });
  assert.deepEqual(cut.end(), { text: "", invalidAt: 1 });
});

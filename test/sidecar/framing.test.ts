// frameLines: whole lines out, the unfinished tail kept, long lines cut into marked pieces.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { LINE_CONTINUES_MARKER, countLines, fileBytesOf, frameLines } from "../../sidecar/framing.ts";

const b = (s: string): Buffer => Buffer.from(s, "latin1");

test("frameLines keeps whole lines and leaves the unfinished tail", () => {
  const cases: [input: string, max: number, out: string, consumed: number, splits: number][] = [
    ["", 10, "", 0, 0],
    ["abc", 10, "", 0, 0],
    ["a\nb\n", 10, "a\nb\n", 4, 0],
    ["a\nbc", 10, "a\n", 2, 0],
    ["\n\n", 10, "\n\n", 2, 0],
    ["abcdef\n", 3, `abc${LINE_CONTINUES_MARKER}\ndef\n`, 7, 1],
    ["abcdefg\n", 3, `abc${LINE_CONTINUES_MARKER}\ndef${LINE_CONTINUES_MARKER}\ng\n`, 8, 2],
    ["ab\nabcdefgh", 3, `ab\nabc${LINE_CONTINUES_MARKER}\ndef${LINE_CONTINUES_MARKER}\n`, 9, 2],
    ["abcd", 3, `abc${LINE_CONTINUES_MARKER}\n`, 3, 1],
    ["abc\nde", 3, "abc\n", 4, 0],
  ];
  for (const [input, max, out, consumed, splits] of cases) {
    const r = frameLines(b(input), max);
    assert.equal(r.out.toString("latin1"), out, `out for ${JSON.stringify(input)} max ${max}`);
    assert.equal(r.consumed, consumed, `consumed for ${JSON.stringify(input)} max ${max}`);
    assert.equal(r.splits, splits, `splits for ${JSON.stringify(input)} max ${max}`);
  }
});

test("frameLines returns a view of the input, not a copy, when no line is too long", () => {
  const input = b("one\ntwo\nthr");
  const r = frameLines(input, 1024);
  assert.equal(r.out.buffer, input.buffer);
});

test("feeding any byte stream through frameLines in any chunking rebuilds it exactly", () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.constant("\n"), fc.string({ maxLength: 12 })), { maxLength: 40 }),
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 10 }),
      fc.integer({ min: 1, max: 8 }),
      (parts, chunkSizes, max) => {
        const input = b(parts.join(""));
        let carry = Buffer.alloc(0);
        let out = "";
        let pos = 0;
        for (let i = 0; pos < input.length; i++) {
          const size = chunkSizes[i % chunkSizes.length]!;
          const data = Buffer.concat([carry, input.subarray(pos, pos + size)]);
          pos += size;
          const r = frameLines(data, max);
          const text = r.out.toString("latin1");
          assert.ok(text === "" || text.endsWith("\n"), "output ends at a line end");
          for (const line of text.split("\n").slice(0, -1)) {
            const body = line.endsWith(LINE_CONTINUES_MARKER) ? line.slice(0, -LINE_CONTINUES_MARKER.length) : line;
            assert.ok(body.length <= max, `piece of ${body.length} bytes over the ${max} limit`);
          }
          out += text;
          carry = data.subarray(r.consumed);
          assert.ok(carry.length <= max, "what is kept back is never over the limit");
        }
        const rejoined = out.split(`${LINE_CONTINUES_MARKER}\n`).join("") + carry.toString("latin1");
        assert.equal(rejoined, input.toString("latin1"));
      },
    ),
    { numRuns: 500 },
  );
});

test("countLines counts newlines", () => {
  assert.equal(countLines(b("")), 0);
  assert.equal(countLines(b("a")), 0);
  assert.equal(countLines(b("a\n\nb\n")), 3);
});

test("fileBytesOf: a framed line stands for its bytes with the newline; a marked piece for its bytes without marker or newline", () => {
  const marker = Buffer.byteLength(LINE_CONTINUES_MARKER);
  const cases: [text: number, line: number, max: number, want: number][] = [
    [5, 6, 10, 6], // a line and its newline
    [5, 5, 10, 5], // a flushed unfinished line: no newline
    [10, 11, 10, 11], // exactly the limit: a whole line
    [3 + marker, 4 + marker, 3, 3], // a piece of 3 bytes
  ];
  for (const [text, line, max, want] of cases) assert.equal(fileBytesOf(text, line, max), want, `${text}/${line}/${max}`);
  // Against frameLines: the pieces and lines of a framed buffer add up to the input it consumed.
  const framed = frameLines(b("ab\nabcdefgh\nxy\n"), 3);
  let at = 0;
  for (let pos = 0; pos < framed.out.length; ) {
    const nl = framed.out.indexOf(0x0a, pos);
    at += fileBytesOf(nl - pos, nl + 1 - pos, 3);
    pos = nl + 1;
  }
  assert.equal(at, framed.consumed);
});

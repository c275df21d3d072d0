// JSON records for a chunk of whole lines (--format json without multiline) where the
// WebAssembly encoder (json-lines-wasm.ts, about 3x faster) cannot run, built in one piece of
// memory that also holds a copy of the input and the records' constant parts. Between two lines
// the output is always the same bytes, the end of one record and the start of the next
// (`"<pod fields>}\n{"time":"…","file":"…","log":"`): encoded once per chunk, it is one copy a
// line, and the line's own bytes another. Both copies stay inside that memory (copyWithin, and
// set from a view made once), which costs a third of Buffer.copy's per call: at ~130 bytes a line
// the calls, not the bytes, are the price. The scan for the bytes that end a line or need
// escaping reads the input as 32-bit words, two at a time. docs/decisions.md, "JSON records in one buffer".
import { isUtf8 } from "node:buffer";
import { recordJoint, type RecordParts } from "./json-record.ts";

const NL = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = "0123456789abcdef";

/** What each byte is to the scan: 0 copied as it is, 1 a line's end, 2 escaped. */
const KIND = new Uint8Array(256);
for (let b = 0; b < 0x20; b++) KIND[b] = 2;
KIND[NL] = 1;
KIND[QUOTE] = 2;
KIND[BACKSLASH] = 2;

/** Escape sequences, the same JSON.stringify writes: short forms where JSON has them, else \u00xx; empty for bytes copied as they are. */
export const ESCAPES: readonly Uint8Array[] = (() => {
  const table: Uint8Array[] = [];
  for (let b = 0; b < 256; b++) table.push(new Uint8Array(0));
  for (let b = 0; b < 0x20; b++) table[b] = Buffer.from(`\\u00${HEX[b >> 4]}${HEX[b & 15]}`, "latin1");
  const short: [number, string][] = [[0x08, "\\b"], [0x09, "\\t"], [0x0c, "\\f"], [0x0d, "\\r"], [QUOTE, '\\"'], [BACKSLASH, "\\\\"]];
  for (const [b, s] of short) table[b] = Buffer.from(s, "latin1");
  return table;
})();
const MAX_ESCAPE = 6;

/** Runs shorter than this are copied byte by byte: a native copy costs more than that. */
const SHORT_RUN = 16;

/** Memory kept between chunks; more than this (a huge line's chunk) is given back after it. */
const KEEP_BYTES = 1024 * 1024;

const EMPTY = Buffer.alloc(0);

/**
 * `encodeValid` over `src[start, end)` made valid UTF-8 first. Rare: the WHATWG decoder replaces
 * each bad sequence and never swallows a newline, so this is the same as repairing line by line.
 * Both encoders (this one, json-lines-wasm.ts) start here.
 */
export function encodeRepaired(src: Buffer, start: number, end: number, encodeValid: (src: Buffer, start: number, end: number) => Buffer): Buffer {
  if (end <= start) return EMPTY;
  if (isUtf8(src.subarray(start, end))) return encodeValid(src, start, end);
  const repaired = Buffer.from(src.toString("utf8", start, end), "utf8");
  return encodeValid(repaired, 0, repaired.length);
}
/**
 * 0 where a word's lowest bits are its first byte (little-endian: x64, arm64, ppc64le); on a
 * big-endian machine (s390x) every byte of a flagged word is looked at, in order.
 */
const WORD_ORDER = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1 ? 0 : 0x80808080 | 0;

const align = (n: number): number => (n + 7) & ~7;

/**
 * Encodes chunks of lines as `{"time":…,"file":…,"log":"…"<pod fields>}\n` records, one a line,
 * byte for byte what JSON.stringify writes for valid UTF-8; bytes that are not valid UTF-8 become
 * U+FFFD. The time is set per chunk (setTime): one Date per chunk, not per line.
 */
export class JsonLinesEncoder {
  readonly #parts: RecordParts;
  /** `tail + head` of a record: the tail alone, the head alone, and both together between lines. */
  #consts = Buffer.alloc(0);
  #tailLen = 0;
  #headLen = 0;
  #timeMs = Number.NaN;
  /** [0, consts) constants, [inAt, outAt) the input's copy, [outAt, mem.length) the output. */
  #mem = Buffer.alloc(0);
  #words = new Int32Array(0);
  /** mem[0, tail + head): between two records. */
  #joint = new Uint8Array(0);
  #inAt = 0;
  #outAt = 0;

  /** `afterTime` and `tail`: the record's members after the time and after the log (recordParts). */
  constructor(parts: RecordParts) {
    this.#parts = parts;
  }

  setTime(ms: number): void {
    if (ms === this.#timeMs) return;
    this.#timeMs = ms;
    const { bytes: consts, tailLen } = recordJoint(this.#parts, ms);
    this.#tailLen = tailLen;
    this.#headLen = consts.length - this.#tailLen;
    this.#consts = consts;
    // The constants' length changes only with the year's digits: then lay memory out anew.
    if (this.#mem.length > 0 && align(consts.length) <= this.#inAt) {
      consts.copy(this.#mem, 0);
      this.#joint = new Uint8Array(this.#mem.buffer, this.#mem.byteOffset, consts.length);
    } else this.#mem = Buffer.alloc(0);
  }

  /**
   * Encodes the lines of `src[start, end)` (each ending "\n"; a last line without one is taken
   * whole) and returns the records: a view of this encoder's memory, valid until the next call.
   */
  encode(src: Buffer, start: number, end: number): Buffer {
    return encodeRepaired(src, start, end, (s, a, b) => this.#encodeValid(s, a, b));
  }

  /** New memory with `inBytes` for the input and `outBytes` for the output; keeps the old input and its first `keptOut` output bytes. */
  #layout(inBytes: number, outBytes: number, keptOut = 0): void {
    const inAt = align(this.#consts.length);
    const outAt = inAt + align(inBytes);
    const mem = Buffer.allocUnsafeSlow(outAt + align(outBytes));
    this.#consts.copy(mem, 0);
    if (keptOut > 0) this.#mem.copy(mem, inAt, this.#inAt, this.#outAt + keptOut);
    this.#mem = mem;
    this.#words = new Int32Array(mem.buffer, mem.byteOffset, mem.length >> 2);
    this.#joint = new Uint8Array(mem.buffer, mem.byteOffset, this.#consts.length);
    this.#inAt = inAt;
    this.#outAt = outAt;
  }

  /** Room for `more` output bytes after `pos`: the input and the output so far stay where they are. */
  #grow(pos: number, more: number): void {
    const outLen = pos - this.#outAt;
    this.#layout(this.#outAt - this.#inAt, 2 * (outLen + more), outLen);
  }

  #encodeValid(src: Buffer, start: number, end: number): Buffer {
    const n = end - start;
    // Output guess: the input, plus a record's constants every 64 bytes; grown if it is short.
    const jointLen = this.#tailLen + this.#headLen;
    const guess = n + ((n >> 6) + 1) * jointLen;
    const inRoom = this.#outAt - this.#inAt;
    const outRoom = this.#mem.length - this.#outAt;
    if (this.#mem.length === 0 || inRoom < n + 8 || outRoom < guess) {
      // At least double what was too small, so chunks a little larger each time do not each lay out anew.
      this.#layout(inRoom < n + 8 ? Math.max(n + 8, 2 * inRoom) : inRoom, outRoom < guess ? Math.max(guess, 2 * outRoom, 64 * 1024) : outRoom);
    } else if (this.#mem.length > KEEP_BYTES && inRoom + outRoom > 2 * (n + 8 + guess)) {
      this.#layout(n + 8, guess); // give back what one huge chunk took
    }
    let mem = this.#mem;
    let words = this.#words;
    const inAt = this.#inAt;
    const inEnd = inAt + n;
    src.copy(mem, inAt, start, end);
    // Pad to whole pairs of words with plain bytes, so the scan needs no bounds of its own.
    for (let i = inEnd; i < ((inEnd + 7) & ~7); i++) mem[i] = 0x20;
    const tailLen = this.#tailLen;
    const room = Math.max(jointLen, MAX_ESCAPE); // the most one special byte writes
    let joint = this.#joint;
    let limit = mem.length;
    let pos = this.#outAt;
    mem.copyWithin(pos, tailLen, jointLen);
    pos += this.#headLen;
    let run = inAt; // first input byte not yet in the output
    const wordEnd = ((inEnd + 7) & ~7) >> 2;
    for (let w = inAt >> 2; w < wordEnd; w += 2) {
      // Two words at a time: a byte below 0x20 (a newline among them), a quote or a backslash
      // sets the high bit of its byte in mx or my. That is exact for the first such byte of a
      // word; a byte after it may be flagged too (a borrow), which KIND sorts out.
      const x = words[w]!;
      const y = words[w + 1]!;
      const qx = x ^ 0x22222222;
      const sx = x ^ 0x5c5c5c5c;
      const qy = y ^ 0x22222222;
      const sy = y ^ 0x5c5c5c5c;
      const mx = ((((x - 0x20202020) | 0) & ~x) | (((qx - 0x01010101) | 0) & ~qx) | (((sx - 0x01010101) | 0) & ~sx)) & 0x80808080;
      const my = ((((y - 0x20202020) | 0) & ~y) | (((qy - 0x01010101) | 0) & ~qy) | (((sy - 0x01010101) | 0) & ~sy)) & 0x80808080;
      if ((mx | my) === 0) continue;
      for (let half = 0, m = WORD_ORDER | mx, base = w << 2; half < 2; half++, m = WORD_ORDER | my, base += 4) {
        // The flagged bytes of the word, lowest first.
        for (; m !== 0; m = (m & ((m - 1) | 0)) | 0) {
          const i = base + ((31 - Math.clz32(m & -m)) >> 3);
          const kind = KIND[mem[i]!]!;
          if (kind === 0) continue;
          const len = i - run;
          if (pos + len + room > limit) {
            this.#grow(pos, len + room);
            mem = this.#mem;
            words = this.#words;
            joint = this.#joint;
            limit = mem.length;
          }
          if (len < SHORT_RUN) for (let k = run; k < i; k++) mem[pos++] = mem[k]!;
          else {
            mem.copyWithin(pos, run, i);
            pos += len;
          }
          run = i + 1;
          if (kind === 1) {
            if (i + 1 < inEnd) {
              mem.set(joint, pos);
              pos += jointLen;
            } else {
              mem.copyWithin(pos, 0, tailLen);
              pos += tailLen;
            }
          } else {
            const esc = ESCAPES[mem[i]!]!;
            for (let k = 0; k < esc.length; k++) mem[pos++] = esc[k]!;
          }
        }
      }
    }
    if (mem[inEnd - 1] !== NL) {
      // The last line had no newline: it is a record all the same.
      const len = inEnd - run;
      if (pos + len + tailLen > limit) {
        this.#grow(pos, len + tailLen);
        mem = this.#mem;
      }
      mem.copyWithin(pos, run, inEnd);
      pos += len;
      mem.copyWithin(pos, 0, tailLen);
      pos += tailLen;
    }
    return mem.subarray(this.#outAt, pos);
  }
}

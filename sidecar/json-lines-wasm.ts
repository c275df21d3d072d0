// JSON records for a chunk of whole lines (--format json without multiline), encoded by a small
// WebAssembly function (json-lines-wasm-code.ts) that scans and copies 32 bytes at a time with
// SIMD and copies each record's constant parts natively: the same records, byte for byte, as the
// JavaScript encoder (json-lines.ts, kept for a Node without WebAssembly), in about a third of its
// CPU (docs/decisions.md, "JSON records with WebAssembly SIMD"). Everything lives in the module's
// memory: the escape table, the bytes between two records, a copy of the chunk and the records,
// which are returned as a view of that memory.
import { encodeRepaired, ESCAPES, JsonLinesEncoder } from "./json-lines.ts";
import { recordJoint, type RecordParts } from "./json-record.ts";
import { JSON_LINES_WASM } from "./json-lines-wasm-code.ts";

const NL = 0x0a;
const PAGE = 65536;
const TABLE_BYTES = 256 * 8;
const JOINT_AT = TABLE_BYTES;

/** Memory kept between chunks; more than this (a huge line's chunk) is given back after it. */
const KEEP_BYTES = 1024 * 1024;

/** ESCAPES as the module reads them: 8 bytes a byte, the sequence and, in the eighth, its length. */
function escapeTable(): Uint8Array {
  const table = new Uint8Array(TABLE_BYTES);
  ESCAPES.forEach((seq, b) => {
    table.set(seq, b * 8);
    table[b * 8 + 7] = seq.length;
  });
  return table;
}

type Encode = (i: number, end: number, pos: number, limit: number, joint: number, tailLen: number, jointLen: number) => number;
interface Exports {
  readonly encode: Encode;
  readonly mem: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  readonly pos: { readonly value: number };
}

/** The part of the WebAssembly global this file uses (its types live in TypeScript's DOM library, which the project leaves out). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
};

/** The compiled module; null where it cannot be (WebAssembly left out by --jitless, or no SIMD). */
let compiled: object | null | undefined;

function compiledModule(): object | null {
  if (compiled === undefined) {
    try {
      compiled = new WebAssembly.Module(JSON_LINES_WASM);
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

const align = (n: number): number => (n + 15) & ~15;

/** Whether this process can run the encoder: not where WebAssembly or its SIMD is left out (node --jitless). */
export function wasmAvailable(): boolean {
  return typeof WebAssembly === "object" && compiledModule() !== null;
}

/**
 * Encodes chunks of lines as `{"time":…,"file":…,"log":"…"<pod fields>}\n` records, one a line,
 * byte for byte what JSON.stringify writes for valid UTF-8; bytes that are not valid UTF-8 become
 * U+FFFD. The time is set per chunk (setTime): one Date per chunk, not per line.
 */
export class WasmJsonLinesEncoder {
  readonly #parts: RecordParts;
  #timeMs = Number.NaN;
  #tailLen = 0;
  #jointLen = 0;
  #consts = Buffer.alloc(0);
  #x!: Exports;
  #u8!: Uint8Array;

  /** `afterTime` and `tail`: the record's members after the time and after the log (recordParts). */
  constructor(parts: RecordParts) {
    this.#parts = parts;
    this.#instantiate();
  }

  #instantiate(): void {
    const module = compiledModule();
    if (module === null) throw new Error("json lines: this Node runs no WebAssembly (see wasmAvailable)");
    this.#x = new WebAssembly.Instance(module, {}).exports as Exports;
    this.#u8 = new Uint8Array(this.#x.mem.buffer);
    this.#u8.set(escapeTable(), 0);
    this.#writeConsts();
  }

  setTime(ms: number): void {
    if (ms === this.#timeMs) return;
    this.#timeMs = ms;
    const joint = recordJoint(this.#parts, ms);
    this.#consts = joint.bytes;
    this.#tailLen = joint.tailLen;
    this.#jointLen = this.#consts.length;
    this.#writeConsts();
  }

  /** The joint (a record's tail, then the next one's head) at JOINT_AT. */
  #writeConsts(): void {
    this.#ensure(JOINT_AT + align(this.#jointLen) + 16);
    this.#u8.set(this.#consts, JOINT_AT);
  }

  /** Memory of at least `bytes`; what it held stays. */
  #ensure(bytes: number): void {
    const have = this.#x.mem.buffer.byteLength;
    if (have >= bytes) return;
    this.#x.mem.grow(Math.ceil((Math.max(bytes, 2 * have) - have) / PAGE));
    this.#u8 = new Uint8Array(this.#x.mem.buffer);
  }

  /**
   * Encodes the lines of `src[start, end)` (each ending "\n"; a last line without one is taken
   * whole) and returns the records: a view of this encoder's memory, valid until the next call.
   */
  encode(src: Buffer, start: number, end: number): Buffer {
    return encodeRepaired(src, start, end, (s, a, b) => this.#encodeValid(s, a, b));
  }

  #encodeValid(src: Buffer, start: number, end: number): Buffer {
    const n = end - start;
    const jointLen = this.#jointLen;
    const tailLen = this.#tailLen;
    const slack = 2 * jointLen + 64;
    const inAt = align(JOINT_AT + jointLen + 16);
    const outAt = align(inAt + n + 32);
    // Output guess: the input, plus a record's constants every 64 bytes; grown if it is short.
    const guess = n + ((n >> 6) + 1) * jointLen + slack;
    if (this.#x.mem.buffer.byteLength > KEEP_BYTES && 4 * (outAt + guess) < this.#x.mem.buffer.byteLength) this.#instantiate(); // give back what one huge chunk took
    this.#ensure(outAt + guess);
    let u8 = this.#u8;
    u8.set(n === src.length ? src : src.subarray(start, end), inAt);
    u8.fill(0x20, inAt + n, inAt + n + 32); // plain bytes for the reads past the end
    u8.copyWithin(outAt, JOINT_AT + tailLen, JOINT_AT + jointLen);
    const inEnd = inAt + n;
    let i = inAt;
    let pos = outAt + jointLen - tailLen;
    for (;;) {
      i = this.#x.encode(i, inEnd, pos, u8.length - slack, JOINT_AT, tailLen, jointLen);
      pos = this.#x.pos.value;
      if (i >= inEnd) break;
      this.#ensure(2 * u8.length);
      u8 = this.#u8;
    }
    pos -= i - inEnd;
    if (u8[inEnd - 1] !== NL) {
      // The last line had no newline: it is a record all the same.
      this.#ensure(pos + tailLen);
      u8 = this.#u8;
      u8.copyWithin(pos, JOINT_AT, JOINT_AT + tailLen);
      pos += tailLen;
    }
    return Buffer.from(u8.buffer, outAt, pos - outAt);
  }
}

/**
 * The encoder for --format json: the WebAssembly one, or the JavaScript one where WebAssembly is
 * left out (node --jitless) or its memory cannot be had. Each WebAssembly memory reserves about
 * 8 GiB of address space (touching only what it uses), which a limit on the address space (ulimit
 * -v) may refuse: "Out of memory: Cannot allocate Wasm memory for new instance".
 */
export function jsonLinesEncoder(parts: RecordParts, make: (parts: RecordParts) => WasmJsonLinesEncoder = (p) => new WasmJsonLinesEncoder(p)): JsonLinesEncoder | WasmJsonLinesEncoder {
  if (wasmAvailable()) {
    try {
      return make(parts);
    } catch (err) {
      if (!(err instanceof RangeError)) throw err;
    }
  }
  return new JsonLinesEncoder(parts);
}

// One JSON object per log record, encoded straight from the file's bytes into an output buffer:
// no string and no object per line. Plain text is copied in runs; only `"`, `\` and control
// characters are escaped, and bytes that are not valid UTF-8 become U+FFFD so the output is
// always valid JSON whatever the file holds.
import { isUtf8 } from "node:buffer";
import type { PodMetadata } from "./config.ts";
import type { ByteBuilder } from "./transform-bytes.ts";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const HEX = "0123456789abcdef";

/** The escape sequence for each byte that JSON strings may not hold as it is (0 = copy as is). */
const ESCAPES: readonly (Buffer | undefined)[] = (() => {
  const table: (Buffer | undefined)[] = new Array<Buffer | undefined>(256).fill(undefined);
  for (let b = 0; b < 0x20; b++) table[b] = Buffer.from(`\\u00${HEX[b >> 4]}${HEX[b & 15]}`, "latin1");
  table[0x08] = Buffer.from("\\b", "latin1");
  table[0x09] = Buffer.from("\\t", "latin1");
  table[0x0a] = Buffer.from("\\n", "latin1");
  table[0x0c] = Buffer.from("\\f", "latin1");
  table[0x0d] = Buffer.from("\\r", "latin1");
  table[QUOTE] = Buffer.from('\\"', "latin1");
  table[BACKSLASH] = Buffer.from("\\\\", "latin1");
  return table;
})();

/** Worst case growth of one input byte: a control character becomes six bytes (\u001f). */
const MAX_EXPANSION = 6;

/**
 * Appends `src[start, end)` escaped as the inside of a JSON string. `src` must be valid UTF-8:
 * multi-byte sequences are copied unchanged, which JSON allows.
 */
function appendEscapedUtf8(out: ByteBuilder, src: Uint8Array, start: number, end: number): void {
  out.reserve((end - start) * MAX_EXPANSION);
  const dst = out.buf;
  let pos = out.length;
  // Byte by byte, copying as we scan: for log lines (~100 bytes) this beats native copies of
  // runs, whose per-call cost (a view object each) outweighs the bytes they move.
  for (let i = start; i < end; i++) {
    const b = src[i]!;
    if (b >= 0x20 && b !== QUOTE && b !== BACKSLASH) {
      dst[pos++] = b;
      continue;
    }
    const esc = ESCAPES[b]!;
    for (let k = 0; k < esc.length; k++) dst[pos++] = esc[k]!;
  }
  out.length = pos;
}

/** Appends `src[start, end)` escaped as the inside of a JSON string; invalid UTF-8 becomes U+FFFD. */
export function appendEscaped(out: ByteBuilder, src: Buffer, start: number, end: number, knownUtf8 = false): void {
  if (knownUtf8 || isUtf8(src.subarray(start, end))) {
    appendEscapedUtf8(out, src, start, end);
    return;
  }
  // Rare: the WHATWG decoder replaces each bad sequence and never swallows the byte after it.
  const repaired = Buffer.from(src.toString("utf8", start, end), "utf8");
  appendEscapedUtf8(out, repaired, 0, repaired.length);
}

function jsonString(s: string): string {
  return JSON.stringify(s);
}

/** A record's constant members: after the time up to the log's opening quote, and from its closing quote on. */
export interface RecordParts {
  readonly afterTime: string;
  readonly tail: string;
}

/** The bytes between two records at time `ms`: one record's tail, then the next one's head; `tailLen` says where they meet. */
export function recordJoint(parts: RecordParts, ms: number): { readonly bytes: Buffer<ArrayBuffer>; readonly tailLen: number } {
  const tail = `${parts.tail}}\n`;
  return { bytes: Buffer.from(`${tail}{"time":"${new Date(ms).toISOString()}${parts.afterTime}`, "utf8"), tailLen: Buffer.byteLength(tail) };
}

export function recordParts(file: string, pod: PodMetadata): RecordParts {
  let tail = '"';
  if (pod.podName !== undefined) tail += `,"pod":${jsonString(pod.podName)}`;
  if (pod.podNamespace !== undefined) tail += `,"namespace":${jsonString(pod.podNamespace)}`;
  if (pod.nodeName !== undefined) tail += `,"node":${jsonString(pod.nodeName)}`;
  if (pod.containerName !== undefined) tail += `,"container":${jsonString(pod.containerName)}`;
  return { afterTime: `","file":${jsonString(file)},"log":"`, tail };
}

/**
 * Frames records as `{"time":…,"file":…,"log":"…"<pod fields>}\n`. The time is the moment the
 * bytes were read, set once per chunk with setTime: one Date per chunk, not per line.
 */
export class RecordEncoder {
  private readonly fileField: string;
  private readonly tail: Buffer;
  private head: Buffer = Buffer.alloc(0);
  private headMs = Number.NaN;

  constructor(file: string, pod: PodMetadata) {
    const parts = recordParts(file, pod);
    this.fileField = parts.afterTime;
    this.tail = Buffer.from(parts.tail, "utf8");
  }

  setTime(ms: number): void {
    if (ms === this.headMs) return;
    this.headMs = ms;
    this.head = Buffer.from(`{"time":"${new Date(ms).toISOString()}${this.fileField}`, "utf8");
  }

  /** One record whose log is `src[start, end)`; `extra` is raw JSON members added at the end (",k":v). */
  append(out: ByteBuilder, src: Buffer, start: number, end: number, knownUtf8 = false, extra?: Buffer): void {
    out.append(this.head);
    appendEscaped(out, src, start, end, knownUtf8);
    out.append(this.tail);
    if (extra !== undefined) out.append(extra);
    out.reserve(2);
    out.buf[out.length++] = 0x7d; // }
    out.buf[out.length++] = 0x0a; // \n
  }

  /**
   * One record per line of `src[start, end)` (each line ends with "\n"; a last line without one is
   * taken whole). Validates UTF-8 once for the whole span, and finds the bytes that need escaping
   * with one regular-expression scan of it, so that lines without any (most) are copied natively.
   */
  appendLines(out: ByteBuilder, src: Buffer, start: number, end: number): void {
    const valid = isUtf8(src.subarray(start, end));
    const text = valid ? src.toString("latin1", start, end) : "";
    NEEDS_ESCAPE.lastIndex = 0;
    let special = valid ? nextSpecial(text, start) : -1;
    let lineStart = start;
    while (lineStart < end) {
      let nl = src.indexOf(0x0a, lineStart);
      if (nl < 0 || nl >= end) nl = end;
      if (!valid) this.append(out, src, lineStart, nl, false);
      else if (special >= nl) this.appendPlain(out, src, lineStart, nl);
      else {
        this.append(out, src, lineStart, nl, true);
        NEEDS_ESCAPE.lastIndex = nl - start;
        special = nextSpecial(text, start);
      }
      lineStart = nl + 1;
    }
  }

  /** A record whose log needs no escaping. */
  private appendPlain(out: ByteBuilder, src: Buffer, start: number, end: number): void {
    out.append(this.head);
    out.reserve(end - start);
    src.copy(out.buf, out.length, start, end);
    out.length += end - start;
    out.append(this.tail);
    out.reserve(2);
    out.buf[out.length++] = 0x7d; // }
    out.buf[out.length++] = 0x0a; // \n
  }
}

// Bytes a JSON string cannot hold as they are, newline aside (lines are split there). Searched in
// the latin1 view of the bytes, where each byte is one character.
const NEEDS_ESCAPE = /[\x00-\x09\x0b-\x1f"\\]/g;

/** Offset in the buffer of the next byte needing escape at or after NEEDS_ESCAPE.lastIndex, or Infinity. */
function nextSpecial(text: string, base: number): number {
  const m = NEEDS_ESCAPE.exec(text);
  return m ? base + m.index : Number.POSITIVE_INFINITY;
}

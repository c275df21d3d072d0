// Bytes to text for `tailcar inject`, chunk by chunk: a character split between two chunks is
// kept for the next one, and the first byte that is not UTF-8 is reported (with how many bytes
// came before it) instead of becoming U+FFFD, so binary input is refused, not injected as a string.
import { isUtf8 } from "node:buffer";

export interface DecodedChunk {
  /** The text up to the first invalid byte (all of it when there is none). */
  readonly text: string;
  /** Byte offset in the whole input of the first byte that is not UTF-8, if any. */
  readonly invalidAt?: number;
}

/** Bytes of `b` that end on a character boundary (a lead byte without all its continuation bytes is left). */
function completeLength(b: Uint8Array): number {
  for (let back = 1; back <= Math.min(4, b.length); back++) {
    const c = b[b.length - back]!;
    if ((c & 0xc0) === 0x80) continue;
    const need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
    return need > back ? b.length - back : b.length;
  }
  return b.length;
}

/** Index of the first byte of `b` that does not start a valid UTF-8 character, or -1. */
export function firstInvalidUtf8(b: Uint8Array): number {
  for (let i = 0; i < b.length;) {
    const c = b[i]!;
    if (c < 0x80) {
      i++;
      continue;
    }
    const n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : 0;
    if (n === 0 || i + n >= b.length) return i;
    let cp = c & (0x3f >> n);
    for (let k = 1; k <= n; k++) {
      const t = b[i + k]!;
      if ((t & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (t & 0x3f);
    }
    if (cp < [0, 0x80, 0x800, 0x10000][n]! || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += n + 1;
  }
  return -1;
}

export class Utf8Text {
  private pending: Uint8Array = new Uint8Array(0);
  private offset = 0;

  decode(chunk: Uint8Array): DecodedChunk {
    const bytes = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const end = completeLength(bytes);
    const body = bytes.subarray(0, end);
    this.pending = bytes.slice(end);
    const start = this.offset;
    this.offset += end;
    if (isUtf8(body)) return { text: Buffer.from(body.buffer, body.byteOffset, body.length).toString("utf8") };
    const bad = firstInvalidUtf8(body);
    return { text: Buffer.from(body.buffer, body.byteOffset, bad).toString("utf8"), invalidAt: start + bad };
  }

  /** At the end of the input: a character left incomplete is invalid. */
  end(): DecodedChunk {
    return this.pending.length === 0 ? { text: "" } : { text: "", invalidAt: this.offset };
  }
}

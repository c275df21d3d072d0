// Reads one open file at explicit byte offsets into a reused buffer and cuts what it read into
// whole lines (framing.ts). It keeps the unfinished last line, grows the buffer only for a line
// longer than it (up to --max-line-bytes) and shrinks back after, and remembers the last bytes it
// read so a truncate-and-refill behind its back can be noticed.
import type { OpenFile } from "./files.ts";
import { frameLines } from "./framing.ts";
import { readAt } from "./identity.ts";

/**
 * Read size, and so the largest write to stdout: each chunk's write is one round trip through
 * libuv's pool, and 128 KiB halves their number against 64 KiB for 22–28 % less CPU; 256 KiB saved
 * no more and spread the wall time wider (docs/decisions.md, "The read size").
 */
export const CHUNK_BYTES = 128 * 1024;

/**
 * Read size when forwarding: a read's lines are one request, sent and acknowledged before the next
 * read, so lines/s is at most a read's lines per round trip. 1 MiB against 128 KiB raised 200-byte
 * lines to VictoriaLogs from about 28,000 to 55,000–67,000 lines/s (docs/forwarding.md, "Throughput").
 */
export const FORWARD_CHUNK_BYTES = 1024 * 1024;

export interface Chunk {
  /** Whole lines (and marked pieces of over-long ones); may be empty. Valid until commit(). */
  readonly lines: Buffer;
  /** File offsets of the first byte of `lines` and just after its last input byte. */
  readonly start: number;
  readonly end: number;
  readonly splits: number;
  readonly bytesRead: number;
  /** The read filled the buffer: the file may hold more than was read. */
  readonly full: boolean;
}

/** How many of the bytes read last are kept to notice a truncate-and-refill (and to find a copytruncate copy). */
export const VERIFIED_BEFORE_BYTES = 32;

const NOTHING = Buffer.alloc(0);

export class LineReader {
  readonly #maxLineBytes: number;
  readonly #chunkBytes: number;
  #buf: Buffer;
  /** buf[0, carry) holds the file bytes [pos - carry, pos): an unfinished line. */
  #carry = 0;
  #pos = 0;
  #consumed = 0;
  #filled = 0;
  readonly #last = Buffer.alloc(VERIFIED_BEFORE_BYTES);
  #lastLen = 0;
  #verify = false;

  constructor(maxLineBytes: number, chunkBytes = CHUNK_BYTES) {
    this.#maxLineBytes = maxLineBytes;
    this.#chunkBytes = chunkBytes;
    this.#buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** Next byte to read. */
  get pos(): number {
    return this.#pos;
  }

  /** Bytes of an unfinished line held back. */
  get pending(): number {
    return this.#carry;
  }

  /** The last bytes read, just before pos (up to 32; a copy). */
  lastBytes(): Buffer {
    return Buffer.from(this.#last.subarray(0, this.#lastLen));
  }

  /**
   * Reads from `offset` on. `before`: the file's bytes just before it, as the caller found them;
   * the first read checks they are still there ("changed" if not), as after an idle spell.
   */
  reset(offset: number, before: Buffer = NOTHING): void {
    this.#pos = offset;
    this.#carry = 0;
    this.#lastLen = Math.min(before.length, this.#last.length, offset);
    before.copy(this.#last, 0, before.length - this.#lastLen);
    this.#verify = this.#lastLen > 0;
  }

  /**
   * Reads on. "eof": nothing new. "changed": after an idle spell, the bytes before pos are no
   * longer the ones we read (the file was truncated and refilled). Otherwise call commit() once
   * the chunk's lines are written, before the next read.
   */
  async read(fh: OpenFile): Promise<Chunk | "eof" | "changed"> {
    if (this.#carry === this.#buf.length) {
      // A line longer than the buffer: grow, up to what the longest allowed line needs.
      const bigger = Buffer.allocUnsafe(Math.min(this.#buf.length * 2, this.#maxLineBytes + this.#chunkBytes));
      this.#buf.copy(bigger, 0, 0, this.#carry);
      this.#buf = bigger;
    }
    if (this.#verify && this.#lastLen > 0) {
      this.#verify = false;
      const before = await readAt(fh, this.#pos - this.#lastLen, this.#lastLen);
      if (!before.equals(this.#last.subarray(0, this.#lastLen))) return "changed";
    }
    const room = this.#buf.length - this.#carry;
    const { bytesRead } = await fh.read(this.#buf, this.#carry, room, this.#pos);
    if (bytesRead === 0) {
      this.#verify = true;
      return "eof";
    }
    const start = this.#pos - this.#carry;
    this.#pos += bytesRead;
    const filled = this.#carry + bytesRead;
    this.#lastLen = Math.min(this.#last.length, filled);
    this.#buf.copy(this.#last, 0, filled - this.#lastLen, filled);
    const framed = frameLines(this.#buf.subarray(0, filled), this.#maxLineBytes);
    this.#consumed = framed.consumed;
    this.#filled = filled;
    return { lines: framed.out, start, end: start + framed.consumed, splits: framed.splits, bytesRead, full: bytesRead === room };
  }

  /** Drops the lines of the last chunk from the buffer, keeping the unfinished tail. */
  commit(): void {
    if (this.#consumed > 0) this.#buf.copyWithin(0, this.#consumed, this.#filled);
    this.#carry = this.#filled - this.#consumed;
    this.#consumed = this.#filled = 0;
    if (this.#buf.length > this.#chunkBytes && this.#carry <= this.#chunkBytes / 2) {
      // Back to the small buffer once the long line is out: memory stays small between long lines.
      const small = Buffer.allocUnsafe(this.#chunkBytes);
      this.#buf.copy(small, 0, 0, this.#carry);
      this.#buf = small;
    }
  }

  /** The unfinished line plus "\n" (a copy), no longer held; undefined when there is none. */
  takePartial(): { line: Buffer; start: number; end: number } | undefined {
    if (this.#carry === 0) return undefined;
    const line = Buffer.concat([this.#buf.subarray(0, this.#carry), Buffer.from("\n")]);
    const start = this.#pos - this.#carry;
    this.#carry = 0;
    return { line, start, end: this.#pos };
  }
}

// The output side of one followed file: lines through the transform (json, multiline) or straight
// through (raw), to the sink; and the acknowledged offset, the only position a checkpoint may record.
import type { OpenFile } from "./files.ts";
import { countLines } from "./framing.ts";
import type { FileIdentity } from "./identity.ts";
import type { LineTransform, LineTransformOutput } from "./line-transform.ts";
import type { Batch, Sink } from "./sink.ts";
import type { FileStats } from "./stats.ts";

export interface FileOutputOptions {
  readonly path: string;
  readonly sink: Sink;
  readonly stats: FileStats;
  readonly newTransform: (() => LineTransform) | undefined;
  readonly countLines: boolean;
  /** The checkpoint resumed from: its `pending` bytes are owed to the reader first. */
  readonly checkpoint?: { readonly pending?: string } | undefined;
}

/** Where a checkpoint resumes: the offset, and what the reader is owed first. */
export interface ResumePoint {
  readonly offset: number;
  readonly midLine?: true;
  /** Output bytes owed before anything read from offset. */
  readonly pending?: Buffer;
}

/** A batch given to the sink and not yet acknowledged. */
interface InFlight {
  readonly batch: Batch;
  readonly ackOffset: number;
  /** Bytes at the start of the batch that are the file's bytes from startOffset as they are (raw). */
  readonly verbatim: number;
  readonly startOffset: number;
}

const NL = 0x0a;

export class FileOutput {
  readonly #o: FileOutputOptions;
  #transform: LineTransform | undefined;
  #lastPushAt = 0;
  #acked = 0;
  #knownSize = 0;
  #fileKey: Promise<string> = Promise.resolve("");
  #inFlight: InFlight | undefined;
  #owed: Buffer | undefined;

  constructor(options: FileOutputOptions) {
    this.#o = options;
    const pending = options.checkpoint?.pending;
    if (pending) this.#owed = Buffer.from(pending, "base64");
  }

  /** Writes what the checkpoint said the reader is owed (once, before the first new lines). */
  async payOwed(): Promise<void> {
    const owed = this.#owed;
    this.#owed = undefined;
    if (owed) await this.#write(owed, this.#acked);
  }

  /**
   * The resume point for a checkpoint. `exact` (a shutdown whose writes were halted): a batch the
   * output took in part counts to the byte, inside a line if it must; otherwise the last
   * acknowledged offset, always a line boundary (a periodic save must not point inside a batch
   * whose write carries on after it).
   */
  resumePoint(exact: boolean): ResumePoint {
    const f = this.#inFlight;
    const taken = exact && f ? (this.#o.sink.taken?.(f.batch) ?? 0) : 0;
    if (!f || taken === 0) return { offset: this.#acked };
    const data = f.batch.data;
    if (taken >= data.length) return { offset: f.ackOffset };
    if (taken <= f.verbatim) {
      const offset = f.startOffset + taken;
      return data[taken - 1] === NL ? { offset } : { offset, midLine: true };
    }
    // Output that is not the file's bytes (JSON, a marker): the rest of the batch is owed as it is.
    return { offset: f.ackOffset, pending: Buffer.from(data.subarray(taken)) };
  }

  /** Offset just after the last input byte the sink acknowledged. */
  get acked(): number {
    return this.#acked;
  }

  /** When the transform started holding something back (multiline), or undefined. */
  get heldSince(): number | undefined {
    return this.#transform?.pending ? this.#lastPushAt : undefined;
  }

  /** A new file (or the same one after a truncation) from `offset`, with a fresh transform. */
  reset(fh: OpenFile, identity: FileIdentity, offset: number): void {
    this.#acked = this.#knownSize = offset;
    this.#transform = this.#o.newTransform?.();
    // Device, inode and birth time tell files apart; the fingerprint as first seen tells apart the
    // contents of one file before and after a truncation, so a network sink's ids never collide.
    const fp = identity.fingerprint.slice(0, 16);
    this.#fileKey = fh.stat({ bigint: true }).then(
      (st) => `${st.dev}:${st.ino}:${st.birthtimeNs}:${fp}`,
      () => `${identity.dev}:${identity.ino}:0:${fp}`,
    );
  }

  /** The file is known to be at least this long (for the lag metric). */
  sawSize(size: number): void {
    this.#knownSize = Math.max(this.#knownSize, size);
    this.#o.stats.lagBytes = Math.max(0, this.#knownSize - this.#acked);
  }

  get knownSize(): number {
    return this.#knownSize;
  }

  /** Whole lines read from [start, end); resolves once the sink acknowledged what they became. */
  async emit(lines: Buffer, start: number, end: number): Promise<void> {
    if (!this.#transform) return this.#write(lines, end, start);
    this.#lastPushAt = Date.now();
    return this.#writeOutput(this.#transform.push(lines, end));
  }

  /** Writes what the transform holds back (multiline timeout, end of file, shutdown). */
  async flushHeld(): Promise<void> {
    if (this.#transform?.pending) await this.#writeOutput(this.#transform.flush());
  }

  #writeOutput(r: LineTransformOutput): Promise<void> {
    return this.#write(r.out, r.safeOffset);
  }

  async #write(data: Buffer, ackOffset: number, startOffset?: number): Promise<void> {
    const stats = this.#o.stats;
    if (data.length > 0) {
      const fileKey = await this.#fileKey;
      const batch: Batch = { file: this.#o.path, data, fileKey, ...(startOffset === undefined ? {} : { startOffset }) };
      // Raw output is the file's bytes, but for a marker after each piece of a split line (longer)
      // or the newline given to a flushed unfinished line (one byte more, at the end).
      const span = startOffset === undefined ? -1 : ackOffset - startOffset;
      const verbatim = data.length === span || data.length === span + 1 ? span : 0;
      this.#inFlight = { batch, ackOffset, verbatim, startOffset: startOffset ?? 0 };
      try {
        await this.#o.sink.write(batch);
      } finally {
        this.#inFlight = undefined;
      }
      stats.bytesWritten += data.length;
      if (this.#o.countLines) stats.linesWritten += countLines(data);
    }
    this.#acked = Math.max(this.#acked, ackOffset);
    stats.lagBytes = Math.max(0, this.#knownSize - this.#acked);
  }
}

// The output side of one followed file: lines through the transform (json, multiline) or straight
// through (raw), to the sink; and the acknowledged offset, the only position a checkpoint may record.
import type { OpenFile } from "./files.ts";
import { countLines } from "./framing.ts";
import type { FileIdentity } from "./identity.ts";
import type { LineTransform, LineTransformOutput } from "./line-transform.ts";
import type { Sink } from "./sink.ts";
import type { FileStats } from "./stats.ts";

export interface FileOutputOptions {
  readonly path: string;
  readonly sink: Sink;
  readonly stats: FileStats;
  readonly newTransform: (() => LineTransform) | undefined;
  readonly countLines: boolean;
}

export class FileOutput {
  readonly #o: FileOutputOptions;
  #transform: LineTransform | undefined;
  #lastPushAt = 0;
  #acked = 0;
  #knownSize = 0;
  #fileKey: Promise<string> = Promise.resolve("");

  constructor(options: FileOutputOptions) {
    this.#o = options;
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
      await this.#o.sink.write({ file: this.#o.path, data, fileKey, ...(startOffset === undefined ? {} : { startOffset }) });
      stats.bytesWritten += data.length;
      if (this.#o.countLines) stats.linesWritten += countLines(data);
    }
    this.#acked = Math.max(this.#acked, ackOffset);
    stats.lagBytes = Math.max(0, this.#knownSize - this.#acked);
  }
}

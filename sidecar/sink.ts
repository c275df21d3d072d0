// Where lines go. A sink acknowledges each batch by resolving its promise, in the order the
// batches were given; a follower advances its checkpoint only on that acknowledgement. Network
// sinks (Elasticsearch _bulk, Loki push) plug in here by resolving after the backend's reply.

export interface Batch {
  /** The followed path the bytes come from (network sinks label records with it). */
  readonly file: string;
  /** Whole lines, each ending in "\n" (raw bytes, or one JSON object per line). */
  readonly data: Buffer;
  /** This incarnation of the file (dev:ino:fingerprint): a rotated file and its successor differ. */
  readonly fileKey?: string;
  /** File offset of data[0]: raw format (the data are the file's lines, but for split markers). */
  readonly startOffset?: number;
  /**
   * --format json: the file offset of each record's first input byte, one per line of data (a
   * multiline record's is its first line's). What startOffset is to raw lines: names the record
   * (the `_id`) and, with `times`, gives its time.
   */
  readonly offsets?: readonly number[];
  /**
   * Forwarding with startOffset or offsets: the line (record) starting at offset o has the time
   * ns + (o - from) (line-times.ts), the same whenever it is read; a JSON record's own "time" is
   * that time's millisecond. Without it a network sink takes the clock.
   */
  readonly times?: { readonly from: number; readonly ns: bigint };
}

export interface Sink {
  /** Resolves once the batch is delivered; rejects with SinkClosedError when the output is gone for good. */
  write(batch: Batch): Promise<void>;
  /**
   * Bytes of `batch`, not yet acknowledged, that the output has already taken for good (stdout:
   * the kernel has them). Sinks that deliver a batch whole or not at all (the network sinks,
   * acknowledged per batch) leave it out.
   */
  taken?(batch: Batch): number;
  /** The shutdown gave up waiting: start no more writes, so taken() holds still while it is saved. */
  halt?(): void;
}

/** The output will never accept more (stdout's reader went away: EPIPE). */
export class SinkClosedError extends Error {
  override name = "SinkClosedError";
}

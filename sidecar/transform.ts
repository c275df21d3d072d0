// What the sidecar writes for the lines it read in JSON format: one record per line or per
// multiline group. The follower hands over complete lines with the file offset just after them;
// the transform says which bytes to write and up to which offset the input is fully covered by
// what it returned, so checkpoints never pass a held-back record. Forwarding, each record also
// says the file offset of its first input byte and takes its time from it (transform-timed.ts).
// Raw format has no transform: the
// follower writes the bytes it read. The pipeline imports only the types from here, so a raw
// sidecar never loads this module.
import type { SidecarConfig } from "./config.ts";
import type { JsonLinesEncoder } from "./json-lines.ts";
import { jsonLinesEncoder, type WasmJsonLinesEncoder } from "./json-lines-wasm.ts";
import { RecordEncoder, recordParts } from "./json-record.ts";
import { createGrouper } from "./multiline.ts";
import { ByteBuilder } from "./transform-bytes.ts";
import { MultilineTransform } from "./transform-multiline.ts";

export interface TransformOutput {
  /** Bytes to write (may be empty). */
  readonly out: Buffer;
  /** File offset up to which every input byte is now in `out` or in earlier outputs. */
  readonly safeOffset: number;
  /**
   * Timed transforms only (forwarding): the file offset of each record of `out`, in order: its
   * first input byte (a multiline record's first line). Records of one output cover the input from
   * the previous safeOffset to this one without a gap, so the first is at the previous safeOffset.
   */
  readonly offsets?: readonly number[];
  /**
   * Timed multiline only: the record held at safeOffset continues one cut at the size cap, and
   * this is the grouper's state after its first line (multiline.ts, state()): what a restart from
   * safeOffset needs to group on as this run does (continueAt). Undefined otherwise.
   */
  readonly continues?: string;
}

/** The anchor of line-times.ts a timed transform takes its records' times from. */
export interface RecordTimesAnchor {
  readonly from: number;
  readonly ns: bigint;
}

export interface Transform {
  /**
   * `lines`: one or more complete lines, each ending "\n", raw bytes (a marked piece of a split
   * line stands for its bytes without the marker: framing.ts); `endOffset`: file offset just after
   * them; `startOffset`: file offset of lines[0] (timed transforms need it when pieces are marked).
   */
  push(lines: Buffer, endOffset: number, startOffset?: number): TransformOutput;
  /** Emits anything held back (multiline timeout, shutdown). */
  flush(): TransformOutput;
  /** Something is held back: call flush after config.multilineTimeoutMs if nothing else arrives. */
  readonly pending: boolean;
  /** Each output line (record) stands for one input line, in order (json without multiline). */
  readonly recordPerLine?: boolean;
  /**
   * The caller is done with each output (has written or copied it) before its next push or flush:
   * the transform may build every output in the same memory, which saves an allocation and a copy
   * of each output (half the JSON encoder's CPU: docs/decisions.md, "JSON records in one buffer").
   */
  reuseOutput?(): void;
  /**
   * Timed transforms: the records of the next push or flush take their times from `anchor`, by
   * their first byte's offset (line-times.ts), the JSON "time" field that time's millisecond.
   * Called before every push and flush (the follower plans the anchor for the batch first).
   */
  timeBy?(anchor: RecordTimesAnchor): void;
  /**
   * A restart from a checkpoint with a `cut` (checkpoint.ts): the record held when the line at
   * `offset` comes is written before it, and grouping starts afresh there, as flush() did then.
   */
  cutAt?(offset: number): void;
  /**
   * A restart from a checkpoint with `continues` (checkpoint.ts): the line at `offset` continues a
   * record cut at the size cap; it is held as that record's first line and the grouper takes up
   * `state`, as it had them after that line the first time.
   */
  continueAt?(offset: number, state: string): void;
}

export interface TransformOptions {
  /**
   * Build each output in the same memory: `out` stays valid only until the next push or flush,
   * so the caller must have written (or copied) it by then. Saves an allocation and a copy per
   * push, and the garbage that comes with them (tens of MiB of anonymous memory while streaming
   * in JSON mode). Off by default: a caller that keeps outputs around needs them to be its own.
   */
  readonly reuseOutput?: boolean;
}

const EMPTY = Buffer.alloc(0);

/** JSON, one record per line. */
export class JsonTransform implements Transform {
  readonly #encoder: JsonLinesEncoder | WasmJsonLinesEncoder;
  #reuse: boolean;
  private end = 0;
  readonly pending = false;
  readonly recordPerLine = true;

  constructor(file: string, config: Pick<SidecarConfig, "pod">, options: TransformOptions = {}) {
    this.#encoder = jsonLinesEncoder(recordParts(file, config.pod));
    this.#reuse = options.reuseOutput === true;
  }

  /** From now on, as if made with reuseOutput (see Transform.reuseOutput). */
  reuseOutput(): void {
    this.#reuse = true;
  }

  push(lines: Buffer, endOffset: number): TransformOutput {
    this.end = endOffset;
    this.#encoder.setTime(Date.now());
    const out = this.#encoder.encode(lines, 0, lines.length);
    return { out: this.#reuse ? out : Buffer.from(out), safeOffset: endOffset };
  }

  flush(): TransformOutput {
    return { out: EMPTY, safeOffset: this.end };
  }
}

/** The JSON transform for `file` (format json; raw format has none). */
export function createTransform(config: Pick<SidecarConfig, "pod" | "multiline" | "maxLineBytes">, file: string, options: TransformOptions = {}): Transform {
  if (config.multiline === undefined) return new JsonTransform(file, config, options);
  const grouper = createGrouper(config.multiline);
  return new MultilineTransform(new RecordEncoder(file, config.pod), grouper, config.maxLineBytes, options.reuseOutput === true);
}

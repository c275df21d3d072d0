// What the sidecar writes for the lines it read in JSON format: one record per line or per
// multiline group. The follower hands over complete lines with the file offset just after them;
// the transform says which bytes to write and up to which offset the input is fully covered by
// what it returned, so checkpoints never pass a held-back record. Raw format has no transform: the
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
}

export interface Transform {
  /** `lines`: one or more complete lines, each ending "\n", raw bytes; `endOffset`: file offset just after them. */
  push(lines: Buffer, endOffset: number): TransformOutput;
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

// JSON records for forwarding (--format json, no multiline): one a line, as JsonTransform writes
// them, but each knows the file offset of its line's first byte and takes its time from it
// (line-times.ts), so a record sent again after a crash is the same record: same "time", same
// backend time, same `_id`. Lines are encoded in runs that share a millisecond of the anchor's
// times (one nanosecond a byte: a run is up to 1 MB of the file, so mostly one run a chunk) with
// the one-buffer encoder, so forwarding keeps its encoder; the per-line cost added is finding
// each line's offset.
import type { SidecarConfig } from "./config.ts";
import { fileBytesOf } from "./framing.ts";
import { jsonLinesEncoder, type WasmJsonLinesEncoder } from "./json-lines-wasm.ts";
import type { JsonLinesEncoder } from "./json-lines.ts";
import { recordParts } from "./json-record.ts";
import { msAt, msTimes, nextMsAt, type MsTimes } from "./line-times.ts";
import type { RecordTimesAnchor, Transform, TransformOptions, TransformOutput } from "./transform.ts";

const NL = 0x0a;
const EMPTY = Buffer.alloc(0);

export class TimedJsonTransform implements Transform {
  readonly #encoder: JsonLinesEncoder | WasmJsonLinesEncoder;
  readonly #maxLineBytes: number;
  #reuse: boolean;
  #times: MsTimes | undefined;
  #end = 0;
  readonly pending = false;
  readonly recordPerLine = true;

  constructor(file: string, config: Pick<SidecarConfig, "pod" | "maxLineBytes">, options: TransformOptions = {}) {
    this.#encoder = jsonLinesEncoder(recordParts(file, config.pod));
    this.#maxLineBytes = config.maxLineBytes;
    this.#reuse = options.reuseOutput === true;
  }

  reuseOutput(): void {
    this.#reuse = true;
  }

  timeBy(anchor: RecordTimesAnchor): void {
    this.#times = msTimes(anchor);
  }

  push(lines: Buffer, endOffset: number, startOffset = endOffset - lines.length): TransformOutput {
    const t = this.#times;
    if (t === undefined) throw new Error("timed JSON transform: push before timeBy");
    this.#end = endOffset;
    const offsets: number[] = [];
    // Runs of lines whose times share a millisecond; all but the last copied (the encoder's
    // output is overwritten by its next call).
    const runs: Buffer[] = [];
    let runStart = 0;
    let runMs = 0;
    let nextMs = -1;
    for (let pos = 0, at = startOffset; pos < lines.length; ) {
      let nl = lines.indexOf(NL, pos);
      const next = nl < 0 ? lines.length : nl + 1;
      if (nl < 0) nl = lines.length;
      if (at >= nextMs) {
        if (pos > runStart) runs.push(Buffer.from(this.#encode(lines, runStart, pos, runMs)));
        runStart = pos;
        runMs = msAt(t, at);
        nextMs = nextMsAt(t, at);
      }
      offsets.push(at);
      at += fileBytesOf(nl - pos, next - pos, this.#maxLineBytes);
      pos = next;
    }
    const last = this.#encode(lines, runStart, lines.length, runMs);
    const out = runs.length === 0 ? (this.#reuse ? last : Buffer.from(last)) : Buffer.concat([...runs, last]);
    return { out, safeOffset: endOffset, offsets };
  }

  flush(): TransformOutput {
    return { out: EMPTY, safeOffset: this.#end, offsets: [] };
  }

  #encode(lines: Buffer, start: number, end: number, ms: number): Buffer {
    this.#encoder.setTime(ms);
    return this.#encoder.encode(lines, start, end);
  }
}

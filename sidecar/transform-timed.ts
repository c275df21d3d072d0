// JSON records for forwarding (--format json, no multiline): one a line, as JsonTransform writes
// them, but each knows the file offset of its line's first byte and takes its time from it
// (line-times.ts), so a record sent again after a crash is the same record: same "time", same
// backend time, same `_id`. A push is encoded in one call with its first record's millisecond of
// the anchor's times; the records in a later millisecond (one nanosecond a byte: a new one every
// MB of the file) then have their time rewritten in place. So forwarding keeps the one-buffer
// encoder, and the cost added a line is finding its offset.
import type { SidecarConfig } from "./config.ts";
import { fileBytesOf } from "./framing.ts";
import { jsonLinesEncoder, type WasmJsonLinesEncoder } from "./json-lines-wasm.ts";
import type { JsonLinesEncoder } from "./json-lines.ts";
import { RecordEncoder, recordParts } from "./json-record.ts";
import { msAt, msTimes, nextMsAt, type MsTimes } from "./line-times.ts";
import { createGrouper } from "./multiline.ts";
import type { RecordTimesAnchor, Transform, TransformOptions, TransformOutput } from "./transform.ts";
import { MultilineTransform } from "./transform-multiline.ts";

/**
 * The JSON transform of a forwarding sidecar for `file`: records that say their offsets
 * (TransformOutput.offsets) and take their times from an anchor (timeBy), so a record sent again
 * after a crash is the same record. A module of its own: a stdout sidecar keeps the read time and
 * the one-buffer encoder without offsets (the CPU per GB of issue 17) and never loads this one.
 */
export function createTimedTransform(config: Pick<SidecarConfig, "pod" | "multiline" | "maxLineBytes">, file: string, options: TransformOptions = {}): Transform {
  if (config.multiline === undefined) return new TimedJsonTransform(file, config, options);
  return new MultilineTransform(new RecordEncoder(file, config.pod), createGrouper(config.multiline), config.maxLineBytes, options.reuseOutput === true, msUnder);
}

/** The millisecond of a record at an offset under `anchor` (line-times.ts), for the multiline transform. */
function msUnder(anchor: RecordTimesAnchor): (offset: number) => number {
  const t = msTimes(anchor);
  return (offset) => msAt(t, offset);
}

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
    let firstMs = 0;
    let nextMs = 0;
    let later = -1; // the first record in a later millisecond than the first's
    for (let pos = 0, at = startOffset; pos < lines.length; ) {
      let nl = lines.indexOf(NL, pos);
      const next = nl < 0 ? lines.length : nl + 1;
      if (nl < 0) nl = lines.length;
      if (offsets.length === 0) {
        firstMs = msAt(t, at);
        nextMs = nextMsAt(t, at);
      } else if (later < 0 && at >= nextMs) later = offsets.length;
      offsets.push(at);
      at += fileBytesOf(nl - pos, next - pos, this.#maxLineBytes);
      pos = next;
    }
    this.#encoder.setTime(firstMs);
    const out = this.#encoder.encode(lines, 0, lines.length);
    if (later >= 0) retime(out, offsets, later, t);
    return { out: this.#reuse ? out : Buffer.from(out), safeOffset: endOffset, offsets };
  }

  flush(): TransformOutput {
    return { out: EMPTY, safeOffset: this.#end, offsets: [] };
  }
}

/** Where a record's time starts: after `{"time":"` (json-record.ts, recordJoint). */
const TIME_AT = 9;

/**
 * Rewrites the time of records `from` on to their own millisecond. Encoding the chunk in one call
 * and patching is what keeps the one-buffer encoder's speed: the time's text has a fixed length
 * (24 bytes until the year 10000), and encoding runs apart made the WebAssembly encoder lay its
 * memory out anew for each smaller run (25 times the CPU a line, measured).
 */
function retime(out: Buffer, offsets: readonly number[], from: number, t: MsTimes): void {
  let pos = 0;
  for (let k = 0; k < from; k++) pos = out.indexOf(NL, pos) + 1;
  let ms = Number.NaN;
  let text = EMPTY;
  for (let k = from; k < offsets.length; k++) {
    const m = msAt(t, offsets[k]!);
    if (m !== ms) {
      ms = m;
      text = Buffer.from(new Date(m).toISOString(), "latin1");
    }
    for (let i = 0; i < text.length; i++) out[pos + TIME_AT + i] = text[i]!;
    pos = out.indexOf(NL, pos) + 1;
  }
}

// What a forwarding sink receives from the tailer, and the per-line view its encoders work on.
// Encoders are pure: given the same lines and metadata they produce the same bytes, which is what
// lets a retry resend exactly what was sent before.

import type { PodMetadata } from "../config.ts";
import type { Batch } from "../sink.ts";
import { fileBytesOf } from "../framing.ts";

/**
 * The tailer's batch (complete lines or JSON records of one file, in file order), plus what makes
 * resends idempotent in Elasticsearch: without fileKey and an offset (startOffset for raw lines,
 * offsets for records), documents get backend-chosen ids.
 */
export interface ForwardBatch extends Batch {
  /**
   * Identity of this incarnation of the file (for example dev:ino:fingerprint). A rotated file and
   * its successor at the same path must differ here, or their lines would get the same document ids.
   */
  readonly fileKey?: string;
  /** File offset of data[0] (raw lines). */
  readonly startOffset?: number;
}

export interface LogLine {
  /** The line without its "\n"; invalid UTF-8 becomes U+FFFD. */
  readonly text: string;
  /** File offset of the line's first byte, when the tailer told it. */
  readonly offset: number | undefined;
  /**
   * Nanoseconds since the epoch, strictly increasing within a followed path (keeps order in
   * time-sorted backends); for raw lines a function of the offset (line-times.ts).
   */
  readonly timeNs: bigint;
}

/** Where lines come from: the file and the pod, the same for every line of a batch. */
export interface LineSource {
  readonly file: string;
  readonly fileKey: string | undefined;
  readonly pod: PodMetadata;
}

const NEWLINE = 0x0a;

/**
 * Splits complete lines; a trailing fragment without "\n" is kept as a last line too (a flushed
 * partial). Times from `times` by offset when the batch has both (the same on a replay), else the clock.
 *
 * Offsets are the file's: a piece of a line longer than `maxLineBytes` (framing.ts: the only
 * output lines longer than that) stands for its bytes without the marker and without a newline.
 * Counting the output's bytes instead shifted every later line of the batch by the marker, so a
 * line's offset, `_id` and time depended on where its batch began.
 */
export function splitLines(data: Buffer, startOffset: number | undefined, clock: NanoClock, times?: { readonly from: number; readonly ns: bigint }, maxLineBytes = Infinity): LogLine[] {
  const lines: LogLine[] = [];
  const base = startOffset !== undefined && times !== undefined ? times.ns + BigInt(startOffset - times.from) : undefined;
  let start = 0;
  let at = 0; // file bytes before `start`, from startOffset
  while (start < data.length) {
    let end = data.indexOf(NEWLINE, start);
    const next = end === -1 ? data.length : end + 1;
    if (end === -1) end = data.length;
    const timeNs = base === undefined ? clock.next() : base + BigInt(at);
    lines.push({ text: data.toString("utf8", start, end), offset: startOffset === undefined ? undefined : startOffset + at, timeNs });
    at += fileBytesOf(end - start, next - start, maxLineBytes);
    start = next;
  }
  return lines;
}

/**
 * Records of a transform (--format json), one a line of `data`, each starting at the file offset
 * `offsets[i]` (its first input byte; a multiline record's first line): the offset names it (the
 * `_id`) and, with `times`, gives its time as for raw lines (line-times.ts), the same on a replay.
 */
export function splitRecords(data: Buffer, offsets: readonly number[], clock: NanoClock, times?: { readonly from: number; readonly ns: bigint }): LogLine[] {
  const lines: LogLine[] = [];
  let start = 0;
  for (let i = 0; start < data.length; i++) {
    let end = data.indexOf(NEWLINE, start);
    const next = end === -1 ? data.length : end + 1;
    if (end === -1) end = data.length;
    const offset = offsets[i];
    const timeNs = offset !== undefined && times !== undefined ? times.ns + BigInt(offset - times.from) : clock.next();
    lines.push({ text: data.toString("utf8", start, end), offset, timeNs });
    start = next;
  }
  return lines;
}

/** Wall-clock nanoseconds that never repeat or go backwards, so lines read together keep their order. */
export class NanoClock {
  #last = 0n;
  readonly #now: () => bigint;

  constructor(now: () => bigint = () => BigInt(Date.now()) * 1_000_000n) {
    this.#now = now;
  }

  next(): bigint {
    const t = this.#now();
    this.#last = t > this.#last ? t : this.#last + 1n;
    return this.#last;
  }
}

/** RFC 3339 UTC with nanoseconds: "2024-05-01T12:00:00.123456789Z". */
export function isoNanos(ns: bigint): string {
  const seconds = ns / 1_000_000_000n;
  if (seconds !== lastSecond) {
    lastSecond = seconds;
    lastSecondIso = new Date(Number(seconds) * 1000).toISOString().slice(0, 19); // "...T12:00:00"
  }
  return `${lastSecondIso}.${(ns % 1_000_000_000n).toString().padStart(9, "0")}Z`;
}

// Lines come in bursts read at the same time: format the date part once per second.
let lastSecond = -1n;
let lastSecondIso = "";

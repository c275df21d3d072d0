// JSON records of grouped lines (stack traces). The open record is copied out of the caller's
// buffer (the follower reuses it) and held until a line that does not belong to it arrives or
// flush() is called; safeOffset stays at the record's first byte meanwhile, so a restart re-reads
// the whole record rather than losing its head. Timed (forwarding), a record takes its time from
// its first line's offset (line-times.ts) instead of the moment that line was read.
import { fileBytesOf } from "./framing.ts";
import type { RecordEncoder } from "./json-record.ts";
import type { Grouper } from "./multiline.ts";
import type { RecordTimesAnchor, Transform, TransformOutput } from "./transform.ts";
import { ByteBuilder } from "./transform-bytes.ts";

/** Added to a record cut at the size cap: the next record continues it. */
export const SPLIT_MEMBER = ',"split":true';
const SPLIT = Buffer.from(SPLIT_MEMBER, "latin1");

export class MultilineTransform implements Transform {
  private readonly out = new ByteBuilder();
  private readonly held = new ByteBuilder(4 * 1024);
  /** Bytes of `held` surely in the record; the rest are "maybe" lines. */
  private firm = 0;
  private heldOffset = 0;
  /** File offset just after the firm bytes of `held` ("maybe" lines follow it as they are in the file). */
  private firmEnd = 0;
  private heldTime = 0;
  private end = 0;
  private readonly encoder: RecordEncoder;
  private readonly grouper: Grouper;
  private readonly maxBytes: number;
  private readonly reuse: boolean;
  /** Timed: each record's first offset, for the output under way; undefined untimed. */
  private offsets: number[] | undefined;
  /** Timed: the millisecond of the record starting at an offset, under the anchor of timeBy. */
  private msAt: ((offset: number) => number) | undefined;
  private readonly msUnder: ((anchor: RecordTimesAnchor) => (offset: number) => number) | undefined;
  /** A restart's cut (cutAt), -1 when none. */
  private cut = -1;
  /** Timed: the grouper's state after the first line of the held record when it continues one cut at the size cap. */
  private continued: string | undefined;
  /** A restart's continueAt, until its line comes. */
  private resume: { readonly offset: number; readonly state: string } | undefined;

  /**
   * `maxRecordBytes`: the tailer's --max-line-bytes, which is also what tells a marked piece of a
   * split line (framing.ts). `reuseOutput`: see TransformOptions in transform.ts. `msUnder`
   * (timed, transform-timed.ts): records say their offsets and take their times from timeBy's
   * anchor, the millisecond of a record at an offset under it (line-times.ts, which a stdout
   * sidecar does not load).
   */
  constructor(encoder: RecordEncoder, grouper: Grouper, maxRecordBytes: number, reuseOutput = false, msUnder?: (anchor: RecordTimesAnchor) => (offset: number) => number) {
    this.encoder = encoder;
    this.grouper = grouper;
    this.maxBytes = maxRecordBytes;
    this.reuse = reuseOutput;
    this.msUnder = msUnder;
    if (msUnder) this.offsets = [];
  }

  timeBy(anchor: RecordTimesAnchor): void {
    this.msAt = this.msUnder?.(anchor);
  }

  cutAt(offset: number): void {
    this.cut = offset;
  }

  continueAt(offset: number, state: string): void {
    this.resume = { offset, state };
  }

  /** The time of the record about to be appended, starting at `offset`, read at `readMs`. */
  private stamp(offset: number, readMs: number): void {
    const offsets = this.offsets;
    if (offsets === undefined) return this.encoder.setTime(readMs);
    if (this.msAt === undefined) throw new Error("timed multiline transform: push before timeBy");
    this.encoder.setTime(this.msAt(offset));
    offsets.push(offset);
  }

  private result(safeOffset: number): TransformOutput {
    const out = this.output();
    const offsets = this.offsets;
    if (offsets === undefined) return { out, safeOffset };
    this.offsets = [];
    const continues = this.held.length > 0 ? this.continued : undefined;
    return continues === undefined ? { out, safeOffset, offsets } : { out, safeOffset, offsets, continues };
  }

  private output(): Buffer {
    return this.reuse ? this.out.view() : this.out.take();
  }

  get pending(): boolean {
    return this.held.length > 0;
  }

  push(lines: Buffer, endOffset: number, startOffset = endOffset - lines.length): TransformOutput {
    const now = Date.now();
    this.end = endOffset;
    let start = 0;
    let at = startOffset; // file offset of the line at `start`
    while (start < lines.length) {
      if (this.cut >= 0 && at >= this.cut) {
        // Where the run before flushed on the timeout (at === cut; past it, the file changed).
        if (at === this.cut) {
          this.emitHeld(now);
          this.grouper.reset();
        }
        this.cut = -1;
      }
      let nl = lines.indexOf(0x0a, start);
      const next = nl < 0 ? lines.length : nl + 1;
      if (nl < 0) nl = lines.length;
      const after = at + fileBytesOf(nl - start, next - start, this.maxBytes);
      const resume = this.resume;
      if (resume !== undefined && at >= resume.offset) {
        this.resume = undefined;
        if (at === resume.offset && this.held.length === 0 && this.grouper.restore(resume.state)) {
          // The first line of a record's part after a cut at the size cap, as the run before held it.
          this.hold(lines, start, next, at, after, now, true);
          this.continued = resume.state;
          start = next;
          at = after;
          continue;
        }
      }
      const textEnd = nl > start && lines[nl - 1] === 0x0d ? nl - 1 : nl;
      const verdict = this.grouper.next(lines.toString("utf8", start, textEnd));
      if (verdict === "single") {
        this.emitHeld(now);
        this.stamp(at, now);
        this.encoder.append(this.out, lines, start, nl);
      } else if (verdict === "start" || this.held.length === 0) {
        this.emitHeld(now);
        this.hold(lines, start, next, at, after, now, true);
      } else {
        if (this.held.length + (next - start) > this.maxBytes) {
          // Cap: write what we have, marked, and go on with this line as the rest of the record.
          this.emitHeld(now, true);
          this.hold(lines, start, next, at, after, now, true);
          if (this.offsets !== undefined) this.continued = this.grouper.state();
        } else {
          this.hold(lines, start, next, at, after, now, verdict === "join");
        }
      }
      start = next;
      at = after;
    }
    return this.result(this.held.length > 0 ? this.heldOffset : endOffset);
  }

  flush(): TransformOutput {
    this.emitHeld(Date.now());
    this.grouper.reset();
    return this.result(this.end);
  }

  /** Holds `src[start, end)`, the file's bytes [offset, after). */
  private hold(src: Buffer, start: number, end: number, offset: number, after: number, now: number, firm: boolean): void {
    if (this.held.length === 0) {
      this.heldOffset = offset;
      this.heldTime = now;
    }
    this.held.append(src, start, end);
    if (firm) {
      this.firm = this.held.length;
      this.firmEnd = after;
    }
  }

  /** Writes the held record (its "maybe" lines each as a record of their own), and forgets it. */
  private emitHeld(now: number, split = false): void {
    const held = this.held;
    if (held.length === 0) return;
    this.stamp(this.heldOffset, this.heldTime);
    const buf = held.buf;
    const firmEnd = buf[this.firm - 1] === 0x0a ? this.firm - 1 : this.firm;
    this.encoder.append(this.out, buf, 0, firmEnd, false, split ? SPLIT : undefined);
    if (this.firm < held.length) {
      if (this.offsets === undefined) this.encoder.appendLines(this.out, buf, this.firm, held.length);
      else this.appendTimedLines(buf, this.firm, held.length);
    }
    this.encoder.setTime(now);
    held.clear(256 * 1024);
    this.firm = 0;
    this.continued = undefined;
  }

  /** Timed: the "maybe" lines of `buf[start, end)` a record each, each at its own offset (they are the file's bytes from firmEnd: blank lines, never a marked piece). */
  private appendTimedLines(buf: Buffer, start: number, end: number): void {
    for (let line = start; line < end; ) {
      let nl = buf.indexOf(0x0a, line);
      if (nl < 0 || nl >= end) nl = end;
      this.stamp(this.firmEnd + (line - start), this.heldTime);
      this.encoder.append(this.out, buf, line, nl);
      line = nl + 1;
    }
  }
}

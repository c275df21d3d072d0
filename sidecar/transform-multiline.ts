// JSON records of grouped lines (stack traces). The open record is copied out of the caller's
// buffer (the follower reuses it) and held until a line that does not belong to it arrives or
// flush() is called; safeOffset stays at the record's first byte meanwhile, so a restart re-reads
// the whole record rather than losing its head.
import type { RecordEncoder } from "./json-record.ts";
import type { Grouper } from "./multiline.ts";
import type { Transform, TransformOutput } from "./transform.ts";
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
  private heldTime = 0;
  private end = 0;
  private readonly encoder: RecordEncoder;
  private readonly grouper: Grouper;
  private readonly maxBytes: number;
  private readonly reuse: boolean;

  /** `reuseOutput`: see TransformOptions in transform.ts. */
  constructor(encoder: RecordEncoder, grouper: Grouper, maxRecordBytes: number, reuseOutput = false) {
    this.encoder = encoder;
    this.grouper = grouper;
    this.maxBytes = maxRecordBytes;
    this.reuse = reuseOutput;
  }

  private output(): Buffer {
    return this.reuse ? this.out.view() : this.out.take();
  }

  get pending(): boolean {
    return this.held.length > 0;
  }

  push(lines: Buffer, endOffset: number): TransformOutput {
    const now = Date.now();
    const base = endOffset - lines.length;
    this.end = endOffset;
    let start = 0;
    while (start < lines.length) {
      let nl = lines.indexOf(0x0a, start);
      const next = nl < 0 ? lines.length : nl + 1;
      if (nl < 0) nl = lines.length;
      const textEnd = nl > start && lines[nl - 1] === 0x0d ? nl - 1 : nl;
      const verdict = this.grouper.next(lines.toString("utf8", start, textEnd));
      if (verdict === "single") {
        this.emitHeld(now);
        this.encoder.setTime(now);
        this.encoder.append(this.out, lines, start, nl);
      } else if (verdict === "start" || this.held.length === 0) {
        this.emitHeld(now);
        this.hold(lines, start, next, base + start, now, true);
      } else {
        if (this.held.length + (next - start) > this.maxBytes) {
          // Cap: write what we have, marked, and go on with this line as the rest of the record.
          this.emitHeld(now, true);
          this.hold(lines, start, next, base + start, now, true);
        } else {
          this.hold(lines, start, next, base + start, now, verdict === "join");
        }
      }
      start = next;
    }
    return { out: this.output(), safeOffset: this.held.length > 0 ? this.heldOffset : endOffset };
  }

  flush(): TransformOutput {
    this.emitHeld(Date.now());
    this.grouper.reset();
    return { out: this.output(), safeOffset: this.end };
  }

  private hold(src: Buffer, start: number, end: number, offset: number, now: number, firm: boolean): void {
    if (this.held.length === 0) {
      this.heldOffset = offset;
      this.heldTime = now;
    }
    this.held.append(src, start, end);
    if (firm) this.firm = this.held.length;
  }

  /** Writes the held record (its "maybe" lines each as a record of their own), and forgets it. */
  private emitHeld(now: number, split = false): void {
    const held = this.held;
    if (held.length === 0) return;
    this.encoder.setTime(this.heldTime);
    const buf = held.buf;
    const firmEnd = buf[this.firm - 1] === 0x0a ? this.firm - 1 : this.firm;
    this.encoder.append(this.out, buf, 0, firmEnd, false, split ? SPLIT : undefined);
    if (this.firm < held.length) this.encoder.appendLines(this.out, buf, this.firm, held.length);
    this.encoder.setTime(now);
    held.clear(256 * 1024);
    this.firm = 0;
  }
}

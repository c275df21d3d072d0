// The output side of one followed file: lines through the transform (json, multiline) or straight
// through (raw), to the sink; and the acknowledged offset, the only position a checkpoint may record.
import type { OpenFile } from "./files.ts";
import { countLines } from "./framing.ts";
import type { FileIdentity } from "./identity.ts";
import type { Transform, TransformOutput } from "./transform.ts";
import type { Batch, Sink } from "./sink.ts";
import type { Checkpoint, SavedTimes } from "./checkpoint.ts";
import type { StampPlan, TimeAnchor } from "./line-times.ts";
import type { FileStats } from "./stats.ts";

// Loaded only when forwarding, at the first batch: every module loaded costs RSS at idle.
let lineTimes: typeof import("./line-times.ts") | undefined;

export interface FileOutputOptions {
  readonly path: string;
  readonly sink: Sink;
  readonly stats: FileStats;
  readonly newTransform: (() => Transform) | undefined;
  readonly countLines: boolean;
  /** The checkpoint resumed from: its `pending` bytes are owed to the reader first; its `times` stamp what it may have sent. */
  readonly checkpoint?: Pick<Checkpoint, "pending" | "times" | "cut" | "continues" | "offset" | "identity"> | undefined;
  /** Forwarding: give lines and records times by offset (line-times.ts), saving each new anchor first. */
  readonly times?: TimesOptions | undefined;
}

export interface TimesOptions {
  /** How far a line's time may fall behind the moment it is read (the checkpoint interval). */
  readonly maxLagMs: number;
  /** Saves the checkpoint now (it carries `times`); resolves once it is on disk, or given up on. */
  saveAhead(): Promise<void>;
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
  /** The file's lines the batch's records stand for, one record a line (json), when known. */
  readonly source?: { readonly lines: Buffer; readonly start: number } | undefined;
}

const NL = 0x0a;

export class FileOutput {
  readonly #o: FileOutputOptions;
  #transform: Transform | undefined;
  #lastPushAt = 0;
  #acked = 0;
  #knownSize = 0;
  #fileKey: Promise<string> = Promise.resolve("");
  #inFlight: InFlight | undefined;
  #owed: Buffer | undefined;
  /** The time anchor (line-times.ts), what may have been sent under it, and the least next time. */
  #anchor: TimeAnchor | undefined;
  #mayHaveSent = 0;
  #floorNs = 0n;
  /** Offset just after the last input pushed to the transform (what a flush may cover). */
  #pushedEnd = 0;
  /** Where a record was last ended by a flush of a timed transform (checkpoint.ts, `cut`). */
  #cut = -1;
  /** At the acknowledged offset, a multiline record cut at the size cap goes on: the grouper's state (checkpoint.ts, `continues`). */
  #continues: string | undefined;
  /** The checkpoint's cut and continues, for the transform of the file it was saved for, at its offset. */
  #resumeGroup: Pick<Checkpoint, "cut" | "continues" | "offset" | "identity"> | undefined;

  constructor(options: FileOutputOptions) {
    this.#o = options;
    const pending = options.checkpoint?.pending;
    if (pending) this.#owed = Buffer.from(pending, "base64");
    const cp = options.checkpoint;
    if ((cp?.cut !== undefined || cp?.continues !== undefined) && options.times) this.#resumeGroup = cp;
    const saved = options.checkpoint?.times;
    if (saved && options.times) {
      // The run before may have sent anything up to its lease with these times.
      this.#anchor = { fileKey: saved.fileKey, from: saved.from, ns: BigInt(saved.ns), until: saved.until };
      this.#mayHaveSent = saved.until;
      this.#floorNs = -1n; // the anchor's ceiling, once line-times.ts is loaded
    }
  }

  /** The time anchor for the checkpoint, if lines were stamped. */
  get times(): SavedTimes | undefined {
    const a = this.#anchor;
    return a && { fileKey: a.fileKey, from: a.from, ns: a.ns.toString(), until: a.until };
  }

  /** For the checkpoint: a cut the restart must make, while the record it ends may still be sent again. */
  get cut(): number | undefined {
    return this.#cut > this.#acked ? this.#cut : undefined;
  }

  /** For the checkpoint: the grouper's state at the acknowledged offset, where a record cut at the size cap goes on. */
  get continues(): string | undefined {
    return this.#continues;
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
    const recordEnd = data.indexOf(NL, taken) + 1;
    if (f.source && recordEnd > 0) {
      // One record a line: owed is the rest of the cut record, and reading resumes after its line.
      let records = 0;
      for (let i = data.indexOf(NL); i >= 0 && i < taken; i = data.indexOf(NL, i + 1)) records++;
      let lineEnd = -1;
      for (let r = 0; r <= records; r++) lineEnd = f.source.lines.indexOf(NL, lineEnd + 1);
      if (lineEnd >= 0) {
        const offset = Math.min(f.source.start + lineEnd + 1, f.ackOffset);
        return { offset, pending: Buffer.from(data.subarray(taken, recordEnd)) };
      }
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
    this.#acked = this.#knownSize = this.#pushedEnd = offset;
    this.#transform = this.#o.newTransform?.();
    // emit and flushHeld hand each output to the sink and wait for its acknowledgement before
    // they push again, and no sink keeps a batch's bytes after acknowledging it (raw batches are
    // the reader's reused buffer already).
    this.#transform?.reuseOutput?.();
    const rg = this.#resumeGroup;
    this.#resumeGroup = undefined;
    this.#cut = -1;
    this.#continues = undefined;
    if (rg && offset === rg.offset && identity.dev === rg.identity.dev && identity.ino === rg.identity.ino && identity.fingerprint === rg.identity.fingerprint) {
      // Group the lines as the run before did where their text does not say: a record it ended
      // at the cut on its timeout, a record cut at the size cap that goes on here. Both stay in
      // the checkpoints until passed (another crash needs them too).
      if (rg.cut !== undefined) this.#transform?.cutAt?.((this.#cut = rg.cut));
      if (rg.continues !== undefined) this.#transform?.continueAt?.(offset, (this.#continues = rg.continues));
    }
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
    const transform = this.#transform;
    if (!transform) return this.#write(lines, end, start);
    this.#lastPushAt = Date.now();
    this.#pushedEnd = end;
    if (this.#o.times && transform.timeBy) return this.#timed(this.#o.times, transform, (t) => t.push(lines, end, start), end);
    const r = transform.push(lines, end, start);
    // Lines that are the file's bytes as they are (no split markers): records map to file offsets.
    const source = transform.recordPerLine && lines.length - (end - start) <= 1 ? { lines, start } : undefined;
    return this.#write(r.out, r.safeOffset, undefined, source);
  }

  /** Writes what the transform holds back (multiline timeout, end of file, shutdown). */
  async flushHeld(): Promise<void> {
    const transform = this.#transform;
    if (!transform?.pending) return;
    if (this.#o.times && transform.timeBy) return this.#timed(this.#o.times, transform, (t) => t.flush(), this.#pushedEnd, true);
    const r = transform.flush();
    await this.#write(r.out, r.safeOffset);
  }

  /**
   * A push or flush of a timed transform (forwarding JSON): its records cover the input from the
   * acknowledged offset on (nothing is in flight meanwhile), so the batch's times are planned at
   * that offset as a raw batch's are, before the transform writes them into the records; the plan
   * is carried out (a new anchor or lease saved) only if records came out. `inputEnd`: the end of
   * the input pushed so far, which bounds what the records can cover. `flushed`: the records end
   * where the input does because of a timeout, not of their lines: that cut is saved before they
   * are sent, as a new anchor is, so that a restart groups the lines as this run did.
   */
  async #timed(o: TimesOptions, transform: Transform, run: (t: Transform) => TransformOutput, inputEnd: number, flushed = false): Promise<void> {
    const fileKey = await this.#fileKey;
    lineTimes ??= await import("./line-times.ts");
    const start = this.#acked;
    const plan = this.#plan(o, fileKey, start, Math.max(inputEnd, start));
    transform.timeBy!(plan.anchor);
    const r = run(transform);
    if (r.out.length === 0) return this.#write(r.out, r.safeOffset, undefined, undefined, { continues: r.continues });
    if (flushed) this.#cut = r.safeOffset;
    const times = await this.#carryOut(o, plan, start, r.safeOffset, flushed);
    return this.#write(r.out, r.safeOffset, undefined, undefined, { times, offsets: r.offsets ?? [], continues: r.continues });
  }

  /** `records`: a timed transform's output: its records' times and offsets, and what `continues` at ackOffset. */
  async #write(data: Buffer, ackOffset: number, startOffset?: number, source?: InFlight["source"], records?: { times?: Batch["times"]; offsets?: readonly number[]; continues: string | undefined }): Promise<void> {
    const stats = this.#o.stats;
    if (data.length > 0) {
      const fileKey = await this.#fileKey;
      const times = records ? records.times : startOffset !== undefined && this.#o.times ? await this.#stamp(this.#o.times, fileKey, startOffset, ackOffset) : undefined;
      const batch: Batch = { file: this.#o.path, data, fileKey, ...(startOffset === undefined ? {} : { startOffset }), ...(records?.offsets ? { offsets: records.offsets } : {}), ...(times ? { times } : {}) };
      // Raw output is the file's bytes, but for a marker after each piece of a split line (longer)
      // or the newline given to a flushed unfinished line (one byte more, at the end).
      const span = startOffset === undefined ? -1 : ackOffset - startOffset;
      const verbatim = data.length === span || data.length === span + 1 ? span : 0;
      this.#inFlight = { batch, ackOffset, verbatim, startOffset: startOffset ?? 0, source };
      try {
        await this.#o.sink.write(batch);
      } finally {
        this.#inFlight = undefined;
      }
      stats.bytesWritten += data.length;
      if (this.#o.countLines) stats.linesWritten += countLines(data);
    }
    if (records && ackOffset >= this.#acked) this.#continues = records.continues;
    this.#acked = Math.max(this.#acked, ackOffset);
    stats.lagBytes = Math.max(0, this.#knownSize - this.#acked);
  }

  /** The times of lines [start, end) as planStamp says; a new anchor or lease is saved before they go. */
  async #stamp(o: TimesOptions, fileKey: string, start: number, end: number): Promise<{ from: number; ns: bigint }> {
    lineTimes ??= await import("./line-times.ts");
    return this.#carryOut(o, this.#plan(o, fileKey, start, end), start, end);
  }

  /** planStamp for a batch [start, end) of `fileKey` (line-times.ts loaded). */
  #plan(o: TimesOptions, fileKey: string, start: number, end: number): StampPlan {
    const { LEASE_BYTES, ceilingOf, planStamp } = lineTimes!;
    if (this.#floorNs < 0n && this.#anchor) this.#floorNs = ceilingOf(this.#anchor);
    return planStamp({
      anchor: this.#anchor,
      mayHaveSent: this.#mayHaveSent,
      floorNs: this.#floorNs,
      fileKey,
      start,
      end,
      nowNs: BigInt(Date.now()) * 1_000_000n,
      maxLagNs: BigInt(o.maxLagMs) * 1_000_000n,
      leaseBytes: LEASE_BYTES,
    });
  }

  /** Takes `plan` on for a batch that covers [start, end): saves a new anchor or lease (or, `save`, a cut) before it goes. */
  async #carryOut(o: TimesOptions, plan: StampPlan, start: number, end: number, save = false): Promise<{ from: number; ns: bigint }> {
    const anchor = plan.anchor;
    if (plan.kind !== "stamp") {
      if (plan.kind === "anchor") this.#mayHaveSent = start;
      this.#anchor = anchor;
    }
    if (plan.kind !== "stamp" || save) await o.saveAhead();
    this.#mayHaveSent = Math.max(this.#mayHaveSent, end);
    const next = lineTimes!.timeAt(anchor, end);
    if (next > this.#floorNs) this.#floorNs = next;
    return { from: anchor.from, ns: anchor.ns };
  }
}

// Follows one path like `tail -F`, at explicit byte offsets: reads into a reused buffer, writes
// whole lines to the sink and waits for its acknowledgement before reading on (backpressure, and
// the acknowledged offset is what a checkpoint records). Rotation keeps the old descriptor until
// it is read to its end; truncation goes back to 0.
import { openFollowable, stat, type Followable, type OpenFile } from "./files.ts";
import type { SidecarConfig } from "./config.ts";
import { countLines } from "./framing.ts";
import { LineReader } from "./line-reader.ts";
import { compareIdentity, identify, tailHash, verifiedHead, type FileIdentity } from "./identity.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { CHECKPOINT_VERSION } from "./checkpoint.ts";
import { isoTime, log, type Fields } from "./log.ts";
import type { Sink } from "./sink.ts";
import type { FileStats } from "./stats.ts";
import type { Transform } from "./transform.ts";
import { FileOutput } from "./file-output.ts";
import { findSkippedRotation } from "./skipped-rotations.ts";
import { keyOf, type FileOwners } from "./file-owners.ts";
import { notice, observe, type NotFollowedReason, type Reported } from "./not-followed.ts";

/** After a rotation to an empty new file, how long the old file must stay quiet before we let it go. */
export const ROTATION_GRACE_MS = 2000;

export interface FollowerOptions {
  readonly path: string;
  readonly config: SidecarConfig;
  readonly sink: Sink;
  readonly stats: FileStats;
  readonly checkpoint: Checkpoint | undefined;
  readonly newTransform: (() => Transform) | undefined;
  readonly countLines: boolean;
  /** Who reads which file, shared by the followers of one sidecar (file-owners.ts). */
  readonly owners: FileOwners;
}

export type StepResult = "progress" | "idle";

/** Wall clock in ns, less a margin: file birth times come from a coarse clock that lags a few ms. */
function nowNs(): bigint {
  return BigInt(Date.now() - 50) * 1_000_000n;
}

export class Follower {
  readonly path: string;
  readonly #o: FollowerOptions;
  readonly #reader: LineReader;
  readonly #out: FileOutput;
  #fh: OpenFile | undefined;
  /** #fh's key in the owners registry. */
  #key: string | undefined;
  /** The checkpointed file, claimed before the first open so no other path takes it first. */
  #reserved: string | undefined;
  #identity: FileIdentity | undefined;
  /** The bytes #identity's fingerprint covers, once known: polls compare them instead of hashing. */
  #head: Buffer | undefined;
  /** The last tail hash computed for a checkpoint: an idle file's checkpoint needs no new hash. */
  #lastTail: { fh: OpenFile; offset: number; tail: Checkpoint["tail"] } | undefined;
  #partialSince: number | undefined;
  #lastDataAt = Date.now();
  #lastPathCheck = 0;
  #rotatedAway = false;
  #opens = 0;
  /** --from end applies only to a file that is there at the very first attempt: one that appears later is all new. */
  #firstAttempt = true;
  /** Why no file is being read for the path, while that lasts. */
  #notFollowed: Reported | undefined;
  /** While no file is open: a rotated sibling born after this (ns) holds lines we have not read. */
  #waitingSinceNs: bigint | undefined = nowNs();
  /** Files (dev:ino:birth) this follower has read to their end, never to be taken for skipped rotations. */
  readonly #done = new Set<string>();
  /** The file resumed from a checkpoint: files born in its clock tick may be ones read before the restart. */
  #resumedIno: bigint | undefined;

  constructor(options: FollowerOptions) {
    this.#o = options;
    this.path = options.path;
    this.#reader = new LineReader(options.config.maxLineBytes);
    this.#out = new FileOutput(options);
    // After a restart the checkpoint says where we were; siblings born before now were seen then.
    if (options.checkpoint) this.#waitingSinceNs = undefined;
    // The checkpointed file may have been rotated to another followed name while we were down:
    // it is ours to finish from the checkpoint, not the other path's to read from 0.
    const cp = options.checkpoint;
    if (cp?.birthtimeNs && /^\d+$/.test(cp.birthtimeNs) && /^\d+$/.test(cp.identity.dev) && /^\d+$/.test(cp.identity.ino)) {
      const key = keyOf({ dev: BigInt(cp.identity.dev), ino: BigInt(cp.identity.ino), birthtimeNs: BigInt(cp.birthtimeNs) });
      if (options.owners.claim(key, this.path) === undefined) this.#reserved = key;
    }
  }

  /** When bytes were last read (or a file opened): how long the file has been quiet. */
  get lastDataAt(): number {
    return this.#lastDataAt;
  }

  /** When the follower needs a step even without a file event (partial-line or multiline flush). */
  deadline(): number | undefined {
    const c = this.#o.config;
    const d: number[] = [];
    if (this.#partialSince !== undefined) d.push(this.#partialSince + c.partialFlushMs);
    const held = this.#out.heldSince;
    if (held !== undefined) d.push(held + c.multilineTimeoutMs);
    return d.length ? Math.min(...d) : undefined;
  }

  /** One unit of work. draining: SIGTERM came; switch files without the rotation grace. */
  async step(draining: boolean, pathHint: boolean): Promise<StepResult> {
    if (!this.#fh) return (await this.#openPath()) ? "progress" : "idle";
    if ((await this.#readChunk()) !== 0) return "progress";
    const now = Date.now();
    if (this.#partialSince === undefined && this.#reader.pending > 0) this.#partialSince = now;
    if (this.#partialSince !== undefined && (draining || now - this.#partialSince >= this.#o.config.partialFlushMs)) {
      await this.#flushPartial();
      return "progress";
    }
    const held = this.#out.heldSince;
    if (held !== undefined && (draining || now - held >= this.#o.config.multilineTimeoutMs)) {
      await this.#out.flushHeld();
      return "progress";
    }
    if (draining || pathHint || this.#rotatedAway || now - this.#lastPathCheck >= this.#o.config.pollIntervalMs) {
      this.#lastPathCheck = now;
      return this.#checkPath(draining);
    }
    return "idle";
  }

  /** Shutdown: write the unfinished line and anything a transform holds back. */
  async finish(): Promise<void> {
    await this.#flushPartial();
    await this.#out.flushHeld();
  }

  async close(): Promise<void> {
    await this.#letGo(false);
  }

  /** Closes the file; `finished`: it was read to its end, and another path may take it on from here. */
  async #letGo(finished: boolean): Promise<void> {
    const fh = this.#fh;
    this.#fh = undefined;
    if (this.#key !== undefined) {
      this.#o.owners.release(this.#key, this.path, finished ? { identity: this.#identity!, offset: this.#reader.pos, path: this.path } : undefined);
      this.#key = undefined;
    }
    await fh?.close().catch(() => undefined);
  }

  /**
   * The checkpoint for what the sink has acknowledged, or undefined when no file is open.
   * `exact`: the shutdown halted the sink; count a batch it took in part to the byte (file-output.ts).
   */
  async checkpoint(exact = false): Promise<Checkpoint | undefined> {
    const fh = this.#fh;
    const identity = this.#identity;
    const point = this.#out.resumePoint(exact);
    const offset = point.offset;
    if (!fh || !identity) return undefined;
    const memo = this.#lastTail;
    const tail = memo?.fh === fh && memo.offset === offset ? memo.tail : await tailHash(fh, offset);
    this.#lastTail = { fh, offset, tail };
    const { birthtimeNs } = await fh.stat({ bigint: true });
    const owed = point.pending ? { pending: point.pending.toString("base64") } : {};
    return { version: CHECKPOINT_VERSION, path: this.path, identity, offset, ...(point.midLine ? { midLine: true } : {}), ...owed, tail, savedAt: isoTime(Date.now()), birthtimeNs: birthtimeNs.toString() };
  }

  async #openPath(): Promise<boolean> {
    const firstAttempt = this.#firstAttempt;
    this.#firstAttempt = false;
    const cp = this.#opens === 0 ? this.#o.checkpoint : undefined;
    try {
      if (cp) return await this.#resume(cp, firstAttempt);
      return await this.#openAtPath(firstAttempt, false);
    } finally {
      // The reservation ends with the first attempt: kept only if it became the file we read.
      const reserved = this.#reserved;
      this.#reserved = undefined;
      if (reserved !== undefined && reserved !== this.#key) this.#o.owners.release(reserved, this.path);
    }
  }

  async #resume(cp: Checkpoint, firstAttempt: boolean): Promise<boolean> {
    // Loaded only when needed, as is copytruncate-copy.ts: every module loaded costs RSS at idle.
    const { planResume } = await import("./resume.ts");
    const plan = await planResume(this.path, cp);
    if (plan.kind !== "fresh") {
      const rotated = plan.kind === "rotated";
      const refilled = rotated && plan.refilled;
      log(refilled ? "warn" : "info", refilled
        ? "file truncated, refilled and rotated while stopped: reading the rotated file from the start, then following the path"
        : rotated ? "finishing a file rotated while stopped, then following the path" : "resuming from checkpoint", {
        file: this.path,
        offset: plan.offset,
        ...(cp.midLine ? { midLine: true } : {}),
        ...(cp.pending ? { owedBytes: Buffer.byteLength(cp.pending, "base64") } : {}),
        ...(rotated ? { rotatedTo: plan.rotatedPath } : {}),
      });
      if (refilled) this.#o.stats.truncations++;
      const taken = await this.#take(plan.fh, refilled ? await identify(plan.fh) : cp.identity, plan.offset);
      // The rest of a record the reader has in part comes first, whoever reads the file on.
      await this.#out.payOwed();
      if (!taken.adopted) {
        this.#opens++; // the checkpoint is spent: the file is read under another path
        if (taken.followedAs !== undefined) this.#waitFor("followed-elsewhere", { followedAs: taken.followedAs });
        return false;
      }
      this.#rotatedAway = rotated;
      this.#resumedIno = BigInt(cp.identity.ino);
      return true;
    }
    log("warn", "checkpoint does not match the file: reading it from the start", { file: this.path, reason: plan.reason });
    await this.#out.payOwed(); // bytes of the checkpointed file the reader has in part
    // Files born after the checkpointed one (or, without birth times, since the last save) may
    // be rotated-away generations we have not read.
    const born = cp.birthtimeNs && /^\d+$/.test(cp.birthtimeNs) ? BigInt(cp.birthtimeNs) : 0n;
    this.#waitingSinceNs = born > 0n ? born + 1n : BigInt(Date.parse(cp.savedAt) - 50) * 1_000_000n;
    this.#opens++; // the checkpoint is spent; from=end does not apply to a file we have not seen
    return this.#openAtPath(firstAttempt, true);
  }

  async #openAtPath(firstAttempt: boolean, hadCheckpoint: boolean): Promise<boolean> {
    // A file may have appeared at the path and been rotated away between two looks: its rotated
    // name is a sibling born while we waited, and it comes before whatever is at the path now.
    let opened: Followable | { refused: NotFollowedReason };
    try {
      opened = await openFollowable(this.path);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      opened = { refused: code === "ENOENT" ? "missing" : (code ?? String(e)) };
    }
    if ("refused" in opened) {
      if (await this.#adoptSkipped(undefined)) return true;
      this.#waitingSinceNs ??= nowNs();
      this.#waitFor(opened.refused);
      return false;
    }
    const { fh, st } = opened;
    // Searched after the open, so nothing can be rotated away between the search and the open.
    if (await this.#adoptSkipped(st)) {
      await fh.close();
      return true;
    }
    // Read under another path now: no fingerprint (a hash every poll) until it is let go.
    const other = this.#o.owners.ownerOf(keyOf(st), this.path);
    if (other !== undefined) {
      await fh.close();
      this.#waitingSinceNs ??= nowNs();
      this.#waitFor("followed-elsewhere", { followedAs: other });
      return false;
    }
    const id = await identify(fh);
    const start = firstAttempt && !hadCheckpoint && this.#o.config.from === "end" ? id.size : 0;
    const waited = this.#notFollowed !== undefined;
    const first = this.#opens === 0;
    const taken = await this.#take(fh, id, start);
    if (!taken.adopted) {
      this.#waitingSinceNs ??= nowNs();
      if (taken.followedAs !== undefined) this.#waitFor("followed-elsewhere", { followedAs: taken.followedAs });
      return false;
    }
    if (waited || first) log("info", "following file", { file: this.path, offset: taken.offset });
    return true;
  }

  /** The path cannot be read now: say why (once, or at a bounded rate for an error) and show it in the metrics. */
  #waitFor(reason: NotFollowedReason, fields: Fields = {}): void {
    const now = Date.now();
    const prev = this.#notFollowed;
    const { state, log: due } = observe(prev, reason, now);
    this.#notFollowed = state;
    this.#o.stats.notFollowed = reason;
    if (!due) return;
    const n = notice(reason);
    const again = prev?.reason === reason ? { notFollowedForSeconds: Math.round((now - state.since) / 1000) } : {};
    log(n.level, n.msg, { file: this.path, reason, ...fields, ...again });
  }

  /**
   * Adopts `fh` from `offset`, unless it is no regular file (a sibling that became something else
   * after its stat) or another path's follower owns it (then it is closed); a file another path
   * read to its end is taken on where that read stopped.
   */
  async #take(fh: OpenFile, identity: FileIdentity & { head?: Buffer }, offset: number): Promise<{ adopted: true; offset: number } | { adopted: false; followedAs?: string }> {
    const st = await fh.stat({ bigint: true });
    if (!st.isFile()) {
      await fh.close();
      return { adopted: false };
    }
    const key = keyOf(st);
    const owners = this.#o.owners;
    for (;;) {
      const finished = owners.finished(key);
      let start = offset;
      // Without a birth time a new file on a reused inode with the same first bytes would pass for
      // the finished one and lose its start: read it from `offset` (twice, at worst, never lost).
      const handOn = finished !== undefined && st.birthtimeNs !== 0n && finished.offset > offset && BigInt(finished.offset) <= st.size;
      if (handOn && (await verifiedHead(fh, finished.identity)) !== undefined) start = finished.offset;
      // From the check to the claim nothing awaits, so no other follower can claim in between.
      if (owners.finished(key) !== finished) continue;
      const other = owners.claim(key, this.path);
      if (other !== undefined) {
        await fh.close();
        return { adopted: false, followedAs: other };
      }
      if (finished && start !== offset) log("info", "file already read up to here: going on from there", { file: this.path, offset: start, readAs: finished.path });
      this.#key = key;
      this.#adopt(fh, identity, start);
      return { adopted: true, offset: start };
    }
  }

  /** A file at the path rotated away before we looked (a sibling born while we waited): follow it first. */
  async #adoptSkipped(atPath: { ino: bigint; birthtimeNs: bigint } | undefined): Promise<boolean> {
    const since = this.#waitingSinceNs;
    if (since === undefined) return false;
    const skipped = await findSkippedRotation(this.path, this.#done, since, atPath);
    if (!skipped) return false;
    if (!(await this.#take(skipped.fh, await identify(skipped.fh), 0)).adopted) return false;
    log("warn", "a file was at the path and rotated away before we looked: reading it first", { file: this.path, rotated: skipped.path });
    this.#rotatedAway = true;
    return true;
  }

  #adopt(fh: OpenFile, identity: FileIdentity & { head?: Buffer }, offset: number): void {
    this.#opens++;
    this.#waitingSinceNs = undefined;
    this.#notFollowed = undefined;
    this.#o.stats.notFollowed = undefined;
    this.#fh = fh;
    this.#setIdentity(identity);
    this.#reader.reset(offset);
    this.#out.reset(fh, identity, offset);
    this.#partialSince = undefined;
    this.#rotatedAway = false;
    this.#lastDataAt = Date.now();
  }

  /** Only the four fields a checkpoint records (identify's result carries more). */
  #setIdentity(identity: FileIdentity & { head?: Buffer }): void {
    this.#identity = { dev: identity.dev, ino: identity.ino, fingerprint: identity.fingerprint, fingerprintLength: identity.fingerprintLength };
    this.#head = identity.head;
  }

  /** Reads and writes one chunk: bytes read, 0 at the end of the file, -1 when it was truncated and refilled. */
  async #readChunk(): Promise<number> {
    const chunk = await this.#reader.read(this.#fh!);
    if (chunk === "eof") return 0;
    if (chunk === "changed") {
      await this.#truncated((await this.#fh!.stat()).size);
      return -1;
    }
    const stats = this.#o.stats;
    // A full read past the size last seen may leave much of the file unread: look at the size
    // again (one fstat a backlog, not a chunk; a short read ends at the size), which the lag and
    // a truncation's loss are counted from.
    const pos = this.#reader.pos;
    this.#out.sawSize(chunk.full && pos >= this.#out.knownSize ? (await this.#fh!.stat()).size : pos);
    this.#lastDataAt = Date.now();
    stats.bytesRead += chunk.bytesRead;
    if (chunk.lines.length > 0) {
      this.#partialSince = undefined;
      stats.longLinesSplit += chunk.splits;
      if (this.#o.countLines) stats.linesRead += countLines(chunk.lines);
      await this.#out.emit(chunk.lines, chunk.start, chunk.end);
    }
    this.#reader.commit();
    return chunk.bytesRead;
  }

  /** The unfinished last line, written with a newline so the next bytes start a line of their own. */
  async #flushPartial(): Promise<void> {
    const partial = this.#reader.takePartial();
    this.#partialSince = undefined;
    if (!partial) return;
    if (this.#o.countLines) this.#o.stats.linesRead++;
    await this.#out.emit(partial.line, partial.start, partial.end);
  }

  async #endOfFile(): Promise<void> {
    await this.#flushPartial();
    await this.#out.flushHeld();
  }

  async #checkPath(draining: boolean): Promise<StepResult> {
    const fh = this.#fh!;
    this.#head ??= await verifiedHead(fh, this.#identity!);
    const match = await compareIdentity(fh, this.#identity!, this.#head);
    const { size } = await fh.stat();
    if (match === "different" || size < this.#reader.pos) {
      await this.#truncated(size);
      return "progress";
    }
    if (match === "grown") this.#setIdentity(await identify(fh));
    this.#out.sawSize(size);
    if (size > this.#reader.pos) return "progress"; // more to read: the watch hint was lost or late
    const atPath = await stat(this.path, { bigint: true }).catch(() => undefined);
    if (atPath && atPath.dev.toString() === this.#identity!.dev && atPath.ino.toString() === this.#identity!.ino) {
      this.#rotatedAway = false;
      return "idle";
    }
    this.#rotatedAway = true;
    const ours = await fh.stat({ bigint: true });
    if (!atPath) {
      // Deleted or renamed, nothing new at the path: keep reading ours, unless a newer file already
      // came and was rotated away in between.
      const newer = await findSkippedRotation(this.path, this.#doneWith(ours), ours.birthtimeNs, undefined, ours.ino !== this.#resumedIno);
      if (!newer) return "idle";
      await newer.fh.close();
    }
    // A writer puts its last bytes into the old file before its first into the new one, so once the
    // new file has data, the old one read to its end (after that stat) is complete.
    const quiet = Date.now() - this.#lastDataAt >= ROTATION_GRACE_MS;
    if (atPath?.size === 0n && !quiet && !draining) return "idle";
    while ((await this.#readChunk()) > 0);
    await this.#endOfFile();
    this.#o.stats.rotations++;
    log("info", "file rotated: old file read to its end, following the new one", { file: this.path, oldOffset: this.#reader.pos });
    await this.#letGo(true);
    const skipped = await findSkippedRotation(this.path, this.#doneWith(ours), ours.birthtimeNs, undefined, ours.ino !== this.#resumedIno);
    if (skipped && (await this.#take(skipped.fh, await identify(skipped.fh), 0)).adopted) {
      // Read the generation we never saw at the path first; the next check moves on from it.
      log("warn", "a rotated file was never seen at the path (rotated twice between looks): reading it first", { file: this.path, skipped: skipped.path });
      this.#rotatedAway = true;
      return "progress";
    }
    this.#waitingSinceNs = ours.birthtimeNs + (ours.ino === this.#resumedIno ? 1n : 0n);
    if (!(await this.#openPath())) this.#rotatedAway = false;
    return "progress";
  }

  /** copytruncate: read what we had not read yet from the copy, if there is one; returns its name. */
  async #finishFromCopy(): Promise<string | undefined> {
    const truncated = this.#fh!;
    const { findCopy } = await import("./copytruncate-copy.ts");
    const copy = await findCopy(this.path, this.#identity!, this.#reader.pos, this.#reader.lastBytes());
    if (!copy) return undefined;
    this.#fh = copy.fh;
    try {
      while ((await this.#readChunk()) > 0);
    } finally {
      this.#fh = truncated;
      await copy.fh.close();
    }
    return copy.path;
  }

  /** The done set, with `file` in it (bounded: only recent generations can be mistaken for skipped ones). */
  #doneWith(file: { dev: bigint; ino: bigint; birthtimeNs: bigint }): ReadonlySet<string> {
    this.#done.add(`${file.dev}:${file.ino}:${file.birthtimeNs}`);
    if (this.#done.size > 64) this.#done.delete(this.#done.values().next().value!);
    return this.#done;
  }

  async #truncated(size: number): Promise<void> {
    const recovered = await this.#finishFromCopy();
    const unread = Math.max(0, this.#out.knownSize - this.#reader.pos);
    await this.#endOfFile();
    const stats = this.#o.stats;
    stats.truncations++;
    stats.truncatedUnreadBytes += unread;
    log("warn", "file truncated: reading it again from the start (copytruncate loses lines written between copy and truncate)", {
      file: this.path,
      previousOffset: this.#reader.pos,
      size,
      unreadBytes: unread,
      ...(recovered ? { readFromCopy: recovered } : {}),
    });
    const id = await identify(this.#fh!);
    this.#adopt(this.#fh!, id, 0);
    this.#opens--; // same descriptor, not a new open
  }
}

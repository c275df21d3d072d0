// Follows one path like `tail -F`, at explicit byte offsets: reads into a reused buffer, writes
// whole lines to the sink and waits for its acknowledgement before reading on (backpressure, and
// the acknowledged offset is what a checkpoint records). Rotation keeps the old descriptor until
// it is read to its end; truncation goes back to 0.
//
// A state machine: starting (before the first look at the path), waiting (no file to read) and
// reading (one open file). The decisions are plain functions of what was observed, returning
// plans: resume.ts (where to start after a restart) and follower-plans.ts (what a step does once
// the file is read to its end; the periodic look at the file and the path). This class gathers the
// observations and carries the plans out.
import { openFollowable, stat, type Followable, type OpenFile } from "./files.ts";
import type { SidecarConfig } from "./config.ts";
import { countLines } from "./framing.ts";
import { LineReader, VERIFIED_BEFORE_BYTES } from "./line-reader.ts";
import { compareIdentity, identify, readAt, tailHash, verifiedHead, type FileIdentity } from "./identity.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { CHECKPOINT_VERSION } from "./checkpoint.ts";
import { isoTime, log, type Fields } from "./log.ts";
import type { Sink } from "./sink.ts";
import type { FileStats } from "./stats.ts";
import type { Transform } from "./transform.ts";
import { FileOutput } from "./file-output.ts";
import { findSkippedRotation } from "./rotated-siblings.ts";
import { generationsAfter, judgeFile, planIdle, planPath, startOffset, waitingSince, type FinishedFile } from "./follower-plans.ts";
import { keyOf, type FileOwners } from "./file-owners.ts";
import type { Reading, State, Waiting } from "./follower-state.ts";
import type { NotFollowedReason } from "./not-followed.ts";

export { ROTATION_GRACE_MS } from "./follower-plans.ts";

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

/** Only the four fields a checkpoint records (identify's result carries more). */
function recorded(identity: FileIdentity): FileIdentity {
  return { dev: identity.dev, ino: identity.ino, fingerprint: identity.fingerprint, fingerprintLength: identity.fingerprintLength };
}

export class Follower {
  readonly path: string;
  readonly #o: FollowerOptions;
  readonly #reader: LineReader;
  readonly #out: FileOutput;
  #state: State;
  /** The log said which file the path follows (a resume, or a first open): later opens are logged after a wait only. */
  #announced = false;
  /** The last tail hash computed for a checkpoint: an idle file's checkpoint needs no new hash. */
  #lastTail: { fh: OpenFile; offset: number; tail: Checkpoint["tail"] } | undefined;
  #partialSince: number | undefined;
  #lastDataAt = Date.now();
  #lastPathCheck = 0;
  /** Files (dev:ino:birth) this follower has read to their end, never to be taken for skipped rotations. */
  readonly #done = new Set<string>();
  /** The file resumed from a checkpoint: files born in its clock tick may be ones read before the restart. */
  #resumedIno: bigint | undefined;

  constructor(options: FollowerOptions) {
    this.#o = options;
    this.path = options.path;
    this.#reader = new LineReader(options.config.maxLineBytes);
    this.#out = new FileOutput(options);
    const cp = options.checkpoint;
    // The checkpointed file may have been rotated to another followed name while we were down:
    // it is ours to finish from the checkpoint, not the other path's to read from 0.
    let reserved: string | undefined;
    if (cp?.birthtimeNs && /^\d+$/.test(cp.birthtimeNs) && /^\d+$/.test(cp.identity.dev) && /^\d+$/.test(cp.identity.ino)) {
      const key = keyOf({ dev: BigInt(cp.identity.dev), ino: BigInt(cp.identity.ino), birthtimeNs: BigInt(cp.birthtimeNs) });
      if (options.owners.claim(key, this.path) === undefined) reserved = key;
    }
    // After a restart the checkpoint says where we were; siblings born before now were seen then.
    this.#state = { kind: "starting", checkpoint: cp, reserved, sinceNs: cp ? undefined : nowNs() };
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
    const s = this.#state;
    if (s.kind !== "reading") return (await this.#openPath()) ? "progress" : "idle";
    if ((await this.#readChunk(s.fh)) !== 0) return "progress";
    const now = Date.now();
    if (this.#partialSince === undefined && this.#reader.pending > 0) this.#partialSince = now;
    const c = this.#o.config;
    const plan = planIdle({
      now,
      draining,
      pathHint,
      partialSince: this.#partialSince,
      heldSince: this.#out.heldSince,
      rotatedAway: s.rotatedAway,
      lastPathCheck: this.#lastPathCheck,
      partialFlushMs: c.partialFlushMs,
      multilineTimeoutMs: c.multilineTimeoutMs,
      pollIntervalMs: c.pollIntervalMs,
    });
    switch (plan) {
      case "flush-partial":
        await this.#flushPartial();
        return "progress";
      case "flush-held":
        await this.#out.flushHeld();
        return "progress";
      case "check-path":
        this.#lastPathCheck = now;
        return this.#checkPath(s, draining);
      case "idle":
        return "idle";
    }
  }

  /** Shutdown: write the unfinished line and anything a transform holds back. */
  async finish(): Promise<void> {
    await this.#flushPartial();
    await this.#out.flushHeld();
  }

  async close(): Promise<void> {
    await this.#letGo(false);
  }

  /** Closes the file, if one is open, and waits; `finished`: it was read to its end, and another path may take it on from here. */
  async #letGo(finished: boolean): Promise<Waiting> {
    const s = this.#state;
    if (s.kind === "waiting") return s;
    const waiting: Waiting = { kind: "waiting", sinceNs: s.kind === "starting" ? s.sinceNs : undefined, notFollowed: undefined };
    this.#state = waiting;
    if (s.kind === "reading") {
      this.#o.owners.release(s.key, this.path, finished ? { identity: s.identity, offset: this.#reader.pos, path: this.path } : undefined);
      await s.fh.close().catch(() => undefined);
    }
    return waiting;
  }

  /**
   * The checkpoint for what the sink has acknowledged, or undefined when no file is open.
   * `exact`: the shutdown halted the sink; count a batch it took in part to the byte (file-output.ts).
   */
  async checkpoint(exact = false): Promise<Checkpoint | undefined> {
    const s = this.#state;
    const point = this.#out.resumePoint(exact);
    const offset = point.offset;
    if (s.kind !== "reading") return undefined;
    const { fh, identity } = s;
    const memo = this.#lastTail;
    const tail = memo?.fh === fh && memo.offset === offset ? memo.tail : await tailHash(fh, offset);
    this.#lastTail = { fh, offset, tail };
    const { birthtimeNs } = await fh.stat({ bigint: true });
    const owed = point.pending ? { pending: point.pending.toString("base64") } : {};
    return { version: CHECKPOINT_VERSION, path: this.path, identity, offset, ...(point.midLine ? { midLine: true } : {}), ...owed, tail, savedAt: isoTime(Date.now()), birthtimeNs: birthtimeNs.toString() };
  }

  /** Looks for a file to read: resumes from the checkpoint at the first look, else opens the path. */
  async #openPath(): Promise<boolean> {
    const s = this.#state;
    const first = s.kind === "starting" ? s : undefined;
    if (first) this.#state = { kind: "waiting", sinceNs: first.sinceNs, notFollowed: undefined };
    try {
      if (first?.checkpoint) return await this.#resume(first.checkpoint);
      return await this.#openAtPath(first !== undefined, false);
    } finally {
      // The reservation ends with the first attempt: kept only if it became the file we read.
      const reserved = first?.reserved;
      const now = this.#state;
      if (reserved !== undefined && (now.kind !== "reading" || now.key !== reserved)) this.#o.owners.release(reserved, this.path);
      if (first) this.#o.stats.lookedAt = Date.now();
    }
  }

  /** The waiting state (the caller's look found no file to read). */
  #waiting(): Waiting {
    const s = this.#state;
    if (s.kind !== "waiting") throw new Error(`follower of ${this.path}: expected to be waiting, is ${s.kind}`);
    return s;
  }

  async #resume(cp: Checkpoint): Promise<boolean> {
    // Loaded only when needed, as is copytruncate-copy.ts: every module loaded costs RSS at idle.
    const { planResume } = await import("./resume.ts");
    const plan = await planResume(this.path, cp);
    this.#announced = true;
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
      const taken = await this.#take(plan.fh, refilled ? await identify(plan.fh) : cp.identity, plan.offset, plan.before);
      // The rest of a record the reader has in part comes first, whoever reads the file on.
      await this.#out.payOwed();
      if (!taken.adopted) {
        // The checkpoint is spent: the file is read under another path.
        if (taken.followedAs !== undefined) await this.#waitFor("followed-elsewhere", { followedAs: taken.followedAs });
        return false;
      }
      taken.reading.rotatedAway = rotated;
      this.#resumedIno = BigInt(cp.identity.ino);
      return true;
    }
    log("warn", "checkpoint does not match the file: reading it from the start", { file: this.path, reason: plan.reason });
    await this.#out.payOwed(); // bytes of the checkpointed file the reader has in part
    // Files born after the checkpointed one (or, without birth times, since the last save) may
    // be rotated-away generations we have not read.
    const born = cp.birthtimeNs && /^\d+$/.test(cp.birthtimeNs) ? BigInt(cp.birthtimeNs) : 0n;
    this.#waiting().sinceNs = born > 0n ? born + 1n : BigInt(Date.parse(cp.savedAt) - 50) * 1_000_000n;
    // The checkpoint is spent; --from end does not apply to a file we have not seen.
    return this.#openAtPath(true, true, plan.atPath);
  }

  /** `atPath`: the file the resume found at the path (not opened again: it may have been renamed since). */
  async #openAtPath(firstAttempt: boolean, hadCheckpoint: boolean, atPath?: Followable): Promise<boolean> {
    // A file may have appeared at the path and been rotated away between two looks: its rotated
    // name is a sibling born while we waited, and it comes before whatever is at the path now.
    let opened: Followable | { refused: NotFollowedReason };
    try {
      opened = atPath ?? (await openFollowable(this.path));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      opened = { refused: code === "ENOENT" ? "missing" : (code ?? String(e)) };
    }
    if ("refused" in opened) {
      if (await this.#adoptSkipped(undefined)) return true;
      this.#waiting().sinceNs ??= nowNs();
      await this.#waitFor(opened.refused);
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
      this.#waiting().sinceNs ??= nowNs();
      await this.#waitFor("followed-elsewhere", { followedAs: other });
      return false;
    }
    const id = await identify(fh);
    const start = startOffset({ firstAttempt, hadCheckpoint, from: this.#o.config.from, size: id.size });
    const waited = this.#waiting().notFollowed !== undefined;
    const first = !this.#announced;
    const taken = await this.#take(fh, id, start);
    if (!taken.adopted) {
      this.#waiting().sinceNs ??= nowNs();
      if (taken.followedAs !== undefined) await this.#waitFor("followed-elsewhere", { followedAs: taken.followedAs });
      return false;
    }
    if (waited || first) log("info", "following file", { file: this.path, offset: taken.offset });
    return true;
  }

  /** The path cannot be read now: say why (once, or at a bounded rate for an error) and show it in the metrics. */
  async #waitFor(reason: NotFollowedReason, fields: Fields = {}): Promise<void> {
    // Loaded only when needed, as is resume.ts: a sidecar whose file is there never waits.
    const { notice, observe } = await import("./not-followed.ts");
    const w = this.#waiting();
    const now = Date.now();
    const prev = w.notFollowed;
    const { state, log: due } = observe(prev, reason, now);
    w.notFollowed = state;
    this.#o.stats.notFollowed = reason;
    if (!due) return;
    const n = notice(reason);
    const again = prev?.reason === reason ? { notFollowedForSeconds: Math.round((now - state.since) / 1000) } : {};
    log(n.level, n.msg, { file: this.path, reason, ...fields, ...again });
  }

  /**
   * Adopts `fh` from `offset`, unless it is no regular file (a sibling that became something else
   * after its stat) or another path's follower owns it (then it is closed); a file another path
   * read to its end is taken on where that read stopped. `before`: the bytes just before `offset`
   * as the caller checked them (a resume's, against the checkpoint); else they are read here.
   */
  async #take(fh: OpenFile, identity: FileIdentity & { head?: Buffer }, offset: number, before?: Buffer): Promise<{ adopted: true; offset: number; reading: Reading } | { adopted: false; followedAs?: string }> {
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
      // The reader checks these bytes are still there before its first read: a file truncated and
      // refilled past `start` before anything was appended would otherwise be read from the middle
      // of its new content (and again from 0 once the fingerprint told).
      const n = Math.min(start, VERIFIED_BEFORE_BYTES);
      const seen = start === offset && before !== undefined ? before : await readAt(fh, start - n, n).catch(() => undefined);
      return { adopted: true, offset: start, reading: this.#adopt(fh, key, identity, start, seen) };
    }
  }

  /** A file at the path rotated away before we looked (a sibling born while we waited): follow it first. */
  async #adoptSkipped(atPath: { ino: bigint; birthtimeNs: bigint } | undefined): Promise<boolean> {
    const since = this.#waiting().sinceNs;
    if (since === undefined) return false;
    const skipped = await findSkippedRotation(this.path, this.#done, since, atPath);
    if (!skipped) return false;
    const taken = await this.#take(skipped.fh, await identify(skipped.fh), 0);
    if (!taken.adopted) return false;
    log("warn", "a file was at the path and rotated away before we looked: reading it first", { file: this.path, rotated: skipped.path });
    taken.reading.rotatedAway = true;
    return true;
  }

  /** Starts reading `fh` (claimed as `key`) at `offset`; `before`: the bytes just before it, for the reader to check. */
  #adopt(fh: OpenFile, key: string, identity: FileIdentity & { head?: Buffer }, offset: number, before?: Buffer): Reading {
    const reading: Reading = { kind: "reading", fh, key, identity: recorded(identity), head: identity.head, rotatedAway: false };
    this.#state = reading;
    this.#announced = true;
    this.#o.stats.notFollowed = undefined;
    this.#reader.reset(offset, before);
    this.#out.reset(fh, identity, offset);
    this.#partialSince = undefined;
    this.#lastDataAt = Date.now();
    return reading;
  }

  /** Reads `fh` and writes one chunk: bytes read, 0 at the end of the file, -1 when it was truncated and refilled. */
  async #readChunk(fh: OpenFile): Promise<number> {
    const chunk = await this.#reader.read(fh);
    if (chunk === "eof") return 0;
    if (chunk === "changed") {
      await this.#truncated((await fh.stat()).size);
      return -1;
    }
    const stats = this.#o.stats;
    // A full read past the size last seen may leave much of the file unread: look at the size
    // again (one fstat a backlog, not a chunk; a short read ends at the size), which the lag and
    // a truncation's loss are counted from.
    const pos = this.#reader.pos;
    this.#out.sawSize(chunk.full && pos >= this.#out.knownSize ? (await fh.stat()).size : pos);
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

  /** The periodic look at our file and at the path (follower-plans.ts decides, this carries it out). */
  async #checkPath(s: Reading, draining: boolean): Promise<StepResult> {
    const { fh } = s;
    s.head ??= await verifiedHead(fh, s.identity);
    const match = await compareIdentity(fh, s.identity, s.head);
    const { size } = await fh.stat();
    const verdict = judgeFile({ match, size, pos: this.#reader.pos });
    if (verdict === "truncated") {
      await this.#truncated(size);
      return "progress";
    }
    if (match === "grown") {
      const grown = await identify(fh);
      s.identity = recorded(grown);
      s.head = grown.head;
    }
    this.#out.sawSize(size);
    if (verdict === "unread") return "progress"; // the watch hint was lost or late
    const st = await stat(this.path, { bigint: true }).catch(() => undefined);
    const look = {
      atPath: st && { dev: st.dev.toString(), ino: st.ino.toString(), size: st.size },
      ours: s.identity,
      quietMs: Date.now() - this.#lastDataAt,
      draining,
    };
    let plan = planPath(look);
    const ours = plan.kind === "same-file" ? undefined : await fh.stat({ bigint: true });
    if (plan.kind === "look-for-newer") {
      // Deleted or renamed, nothing new at the path: keep reading ours, unless a newer file already
      // came and was rotated away in between.
      const newer = await this.#findNewer(ours!);
      await newer?.fh.close();
      plan = planPath({ ...look, newerRotated: newer !== undefined });
    }
    s.rotatedAway = plan.kind !== "same-file";
    if (plan.kind !== "switch") return "idle";
    await this.#switchFrom(s, ours!);
    return "progress";
  }

  /** A rotated generation after `ours` that we never saw at the path, opened. */
  #findNewer(ours: FinishedFile & { dev: bigint }): ReturnType<typeof findSkippedRotation> {
    const g = generationsAfter(ours, this.#resumedIno);
    return findSkippedRotation(this.path, this.#doneWith(ours), g.afterBirthNs, undefined, g.inclusive);
  }

  /** Reads our file (rotated away) to its end, lets it go, and follows the next generation: a skipped one first, else the path. */
  async #switchFrom(s: Reading, ours: FinishedFile & { dev: bigint }): Promise<void> {
    while ((await this.#readChunk(s.fh)) > 0);
    await this.#endOfFile();
    this.#o.stats.rotations++;
    log("info", "file rotated: old file read to its end, following the new one", { file: this.path, oldOffset: this.#reader.pos });
    const waiting = await this.#letGo(true);
    const skipped = await this.#findNewer(ours);
    if (skipped) {
      const taken = await this.#take(skipped.fh, await identify(skipped.fh), 0);
      if (taken.adopted) {
        // Read the generation we never saw at the path first; the next check moves on from it.
        log("warn", "a rotated file was never seen at the path (rotated twice between looks): reading it first", { file: this.path, skipped: skipped.path });
        taken.reading.rotatedAway = true;
        return;
      }
    }
    waiting.sinceNs = waitingSince(ours, this.#resumedIno);
    await this.#openPath();
  }

  /** copytruncate: read what we had not read yet from the copy, if there is one; returns its name. */
  async #finishFromCopy(s: Reading): Promise<string | undefined> {
    const { findCopy } = await import("./copytruncate-copy.ts");
    const copy = await findCopy(this.path, s.identity, this.#reader.pos, this.#reader.lastBytes());
    if (!copy) return undefined;
    try {
      while ((await this.#readChunk(copy.fh)) > 0);
    } finally {
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

  /** Our file holds other content now, or less: read what a copytruncate copy has, then the file again from 0. */
  async #truncated(size: number): Promise<void> {
    const s = this.#state;
    if (s.kind !== "reading") return;
    const recovered = await this.#finishFromCopy(s);
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
    this.#adopt(s.fh, s.key, await identify(s.fh), 0);
  }
}

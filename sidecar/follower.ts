// Follows one path like `tail -F`, at explicit byte offsets: reads into a reused buffer, writes
// whole lines to the sink and waits for its acknowledgement before reading on (backpressure, and
// the acknowledged offset is what a checkpoint records). Rotation keeps the old descriptor until
// it is read to its end; truncation goes back to 0.
//
// A state machine: starting (before the first look at the path), waiting (no file to read) and
// reading (one open file). The decisions are plain functions of what was observed, returning
// plans: resume.ts (where to start after a restart) and follower-plans.ts (how a resume is carried
// out, which file to open and from where, or why to wait; what a step does once the file is read
// to its end; the periodic look at the file and the path). This class gathers the observations and
// carries the plans out.
import { openFollowable, stat, type Followable, type OpenFile } from "./files.ts";
import type { SidecarConfig } from "./config.ts";
import { countLines } from "./framing.ts";
import { CHUNK_BYTES, FORWARD_CHUNK_BYTES, LineReader } from "./line-reader.ts";
import { compareIdentity, identify, readAt, tailHash, verifiedHead, type FileIdentity } from "./identity.ts";
import type { Checkpoint } from "./checkpoint.ts";
import { CHECKPOINT_VERSION } from "./checkpoint.ts";
import { isoTime, log } from "./log.ts";
import type { Sink } from "./sink.ts";
import type { FileStats } from "./stats.ts";
import type { Transform } from "./transform.ts";
import { FileOutput, type TimesOptions } from "./file-output.ts";
import { findSkippedRotation, type Skipped } from "./rotated-siblings.ts";
import { checkpointedKey, generationsAfter, judgeFile, openError, planIdle, planNotTaken, planOpen, planPath, planResumed, planRotatedOn, planTake, startOffset, type FinishedFile, type LogEntry, type OpenLook, type TakeLook, type Wait } from "./follower-plans.ts";
import { keyOf, type FileOwners } from "./file-owners.ts";
import type { Reading, State, Waiting } from "./follower-state.ts";
import type { Reclaimer } from "./reclaim.ts";

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
  /** Forwarding: lines timed by offset, each new time anchor saved before it is used (file-output.ts). */
  readonly times?: TimesOptions | undefined;
  /**
   * Files (ns since the epoch) born from then on are new to us: a glob that finds the path late
   * gives the time of its previous listing, when the path was not there yet; else now.
   */
  readonly newSinceNs?: bigint | undefined;
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
  /** --reclaim's state for this path, made at the first save that may free something. */
  #reclaimer: Reclaimer | undefined;

  constructor(options: FollowerOptions) {
    this.#o = options;
    this.path = options.path;
    this.#reader = new LineReader(options.config.maxLineBytes, options.config.sink === "stdout" ? CHUNK_BYTES : FORWARD_CHUNK_BYTES);
    this.#out = new FileOutput(options);
    const cp = options.checkpoint;
    const key = checkpointedKey(cp);
    const reserved = key !== undefined && options.owners.claim(key, this.path) === undefined ? key : undefined;
    // After a restart the checkpoint says where we were; siblings born before now were seen then.
    this.#state = { kind: "starting", checkpoint: cp, reserved, sinceNs: cp ? undefined : (options.newSinceNs ?? nowNs()) };
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
    const times = this.#out.times;
    const { cut, continues } = this.#out;
    const group = { ...(cut === undefined ? {} : { cut }), ...(continues === undefined ? {} : { continues }) };
    return { version: CHECKPOINT_VERSION, path: this.path, identity, offset, ...(point.midLine ? { midLine: true } : {}), ...owed, tail, savedAt: isoTime(Date.now()), birthtimeNs: birthtimeNs.toString(), ...(times ? { times } : {}), ...group };
  }

  /**
   * --reclaim: frees the disk blocks of the prefix `cp` (just saved, taken by checkpoint()) records
   * as delivered, if the file it was taken from is still the one read (reclaim.ts).
   */
  async reclaim(cp: Checkpoint): Promise<void> {
    const step = this.#o.config.reclaim;
    const s = this.#state;
    const current = (): boolean => this.#state === s && s.kind === "reading" && s.identity.fingerprint === cp.identity.fingerprint && s.identity.ino === cp.identity.ino && s.identity.dev === cp.identity.dev;
    if (step === undefined || s.kind !== "reading" || !current()) return;
    // Loaded only when needed, as is resume.ts: a sidecar without --reclaim never loads it.
    this.#reclaimer ??= new (await import("./reclaim.ts")).Reclaimer(this.path, step, this.#o.stats);
    await this.#reclaimer.afterSave(s.fh, cp, current);
  }

  /** Looks for a file to read: resumes from the checkpoint at the first look, else opens the path. */
  async #openPath(): Promise<boolean> {
    const s = this.#state;
    if (s.kind !== "starting") return this.#openAtPath(false, false);
    this.#state = { kind: "waiting", sinceNs: s.sinceNs, notFollowed: undefined };
    try {
      return s.checkpoint ? await this.#resume(s.checkpoint) : await this.#openAtPath(true, false);
    } finally {
      // The reservation ends with the first attempt: kept only if it became the file we read.
      const now = this.#state as State; // the awaits may have changed what the assignment above set
      if (s.reserved !== undefined && (now.kind !== "reading" || now.key !== s.reserved)) this.#o.owners.release(s.reserved, this.path);
      this.#o.stats.lookedAt = Date.now();
    }
  }

  /** The waiting state (the caller's look found no file to read). */
  #waiting(): Waiting {
    const s = this.#state;
    if (s.kind !== "waiting") throw new Error(`follower of ${this.path}: expected to be waiting, is ${s.kind}`);
    return s;
  }

  #say(e: LogEntry | undefined): void {
    if (e) log(e.level, e.msg, { file: this.path, ...e.fields });
  }

  /** Carries out resume.ts's plan the way planResumed says. */
  async #resume(cp: Checkpoint): Promise<boolean> {
    // Loaded only when needed, as is copytruncate-copy.ts: every module loaded costs RSS at idle.
    const { planResume } = await import("./resume.ts");
    const found = await planResume(this.path, cp);
    const steps = planResumed(found, cp);
    this.#announced = true;
    this.#say(steps.log);
    if (found.kind === "fresh") {
      await this.#out.payOwed(); // bytes of the checkpointed file the reader has in part
      this.#waiting().sinceNs = steps.sinceNs;
      // The checkpoint is spent; --from end does not apply to a file we have not seen.
      return this.#openAtPath(true, true, found.atPath);
    }
    if (steps.refilled) this.#o.stats.truncations++;
    const taken = await this.#take(found.fh, steps.refilled ? await identify(found.fh) : cp.identity, found.offset, found.before);
    // The rest of a record the reader has in part comes first, whoever reads the file on.
    await this.#out.payOwed();
    if (!taken.adopted) {
      // The checkpoint is spent: the file is read under another path.
      await this.#waitFor(planNotTaken(taken.followedAs));
      return false;
    }
    taken.reading.rotatedAway = steps.rotatedAway;
    this.#resumedIno = BigInt(cp.identity.ino);
    return true;
  }

  /** Looks at the path (planOpen decides each next look); `atPath`: the file the resume found there (not opened again: it may have been renamed since). */
  async #openAtPath(firstAttempt: boolean, hadCheckpoint: boolean, atPath?: Followable): Promise<boolean> {
    const opened = atPath ?? (await openFollowable(this.path).catch((e: unknown) => ({ refused: openError(e) })));
    const file = "refused" in opened ? undefined : opened;
    const w = this.#waiting();
    let look: OpenLook = { atPath: "refused" in opened ? opened : "opened", sinceNs: w.sinceNs, announce: w.notFollowed !== undefined || !this.#announced };
    let plan = planOpen(look);
    if (plan.kind === "look-for-skipped") {
      const skipped = await findSkippedRotation(this.path, this.#done, plan.afterBirthNs, file?.st);
      plan = planOpen((look = { ...look, skipped: (await this.#takeSkipped(skipped)) ?? null }));
    }
    if (plan.kind === "ask-owner" && file) plan = planOpen((look = { ...look, ownedBy: this.#o.owners.ownerOf(keyOf(file.st), this.path) ?? null }));
    if (plan.kind === "take" && file) {
      const id = await identify(file.fh);
      const taken = await this.#take(file.fh, id, startOffset({ firstAttempt, hadCheckpoint, from: this.#o.config.from, size: id.size }));
      plan = planOpen({ ...look, taken });
    } else await file?.fh.close();
    if (plan.kind === "read") this.#say(plan.log);
    else if (plan.kind === "wait") {
      // From now on, a file at the path may be rotated away before the next look (planOpen).
      this.#waiting().sinceNs ??= nowNs();
      await this.#waitFor(plan);
    }
    return plan.kind === "read";
  }

  /** The path cannot be read now: say why (once, or at a bounded rate for an error) and show it in the metrics. */
  async #waitFor({ reason, fields }: Wait): Promise<void> {
    if (reason === undefined) return;
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
   * Adopts `fh` from `offset` as planTake says: not when it is no regular file or another path's
   * follower owns it (then it is closed); from where another path stopped, when that one read it
   * to its end. `before`: the bytes just before `offset` as the caller checked them.
   */
  async #take(fh: OpenFile, identity: FileIdentity & { head?: Buffer }, offset: number, before?: Buffer): Promise<{ adopted: true; offset: number; reading: Reading } | { adopted: false; followedAs?: string }> {
    const st = await fh.stat({ bigint: true });
    const key = keyOf(st);
    const owners = this.#o.owners;
    for (;;) {
      const finished = owners.finished(key);
      const look: TakeLook = { offset, isFile: st.isFile(), birthtimeNs: st.birthtimeNs, size: st.size, finished, checkedBefore: before !== undefined };
      let plan = planTake(look);
      if (plan.kind === "compare-head") plan = planTake({ ...look, sameHead: (await verifiedHead(fh, plan.identity)) !== undefined });
      if (plan.kind !== "claim") {
        await fh.close();
        return { adopted: false };
      }
      // From the check to the claim nothing awaits, so no other follower can claim in between.
      if (owners.finished(key) !== finished) continue;
      const other = owners.claim(key, this.path);
      if (other !== undefined) {
        await fh.close();
        return { adopted: false, followedAs: other };
      }
      this.#say(plan.handedOn);
      const seen = plan.before === "given" ? before : await readAt(fh, plan.before.at, plan.before.length).catch(() => undefined);
      return { adopted: true, offset: plan.start, reading: this.#adopt(fh, key, identity, plan.start, seen) };
    }
  }

  /** Takes a generation rotated away before we looked (rotated-siblings.ts found it); returns its name when taken. */
  async #takeSkipped(skipped: Skipped | undefined): Promise<string | undefined> {
    if (!skipped) return undefined;
    const taken = await this.#take(skipped.fh, await identify(skipped.fh), 0);
    if (!taken.adopted) return undefined;
    taken.reading.rotatedAway = true;
    return skipped.path;
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
    // A generation we never saw at the path is read first; the next check moves on from it.
    const next = planRotatedOn(await this.#takeSkipped(await this.#findNewer(ours)), ours, this.#resumedIno);
    if (next.kind === "read") return this.#say(next.log);
    waiting.sinceNs = next.sinceNs;
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

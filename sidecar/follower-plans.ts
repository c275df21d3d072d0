// A follower's decisions, as plain functions: what it observed in, a plan out. follower.ts
// gathers the observations (each only when the one before calls for it: a stat of the path only
// once the file is read to its end) and carries the plans out. One module for all of them, in
// three sections (a step once the file is read, opening a file, the periodic look): every module
// a sidecar loads costs idle memory (docs/decisions.md).
import type { Checkpoint } from "./checkpoint.ts";
import type { StartPosition } from "./config.ts";
import { keyOf, type Finished } from "./file-owners.ts";
import type { FileIdentity, Match } from "./identity.ts";
import { VERIFIED_BEFORE_BYTES } from "./line-reader.ts";
import type { Fields, Level } from "./log.ts";
import type { NotFollowedReason } from "./not-followed.ts";

/** A line for the follower's log; the follower adds its path as `file`. */
export interface LogEntry {
  readonly level: Level;
  readonly msg: string;
  readonly fields: Fields;
}

// A step once the file is read to its end: write an unfinished last line, write what a multiline
// transform holds, look at the path, or wait. Only after the read: bytes to read always come first.

export interface IdleLook {
  readonly now: number;
  /** SIGTERM came: everything is due now. */
  readonly draining: boolean;
  /** The directory watch saw the path created, renamed or deleted. */
  readonly pathHint: boolean;
  /** Since when the reader has held an unfinished last line, if it does. */
  readonly partialSince: number | undefined;
  /** Since when the transform has held lines back (multiline), if it does. */
  readonly heldSince: number | undefined;
  /** Our file is no longer at the path: look every step until it is let go. */
  readonly rotatedAway: boolean;
  readonly lastPathCheck: number;
  readonly partialFlushMs: number;
  readonly multilineTimeoutMs: number;
  readonly pollIntervalMs: number;
}

export type IdlePlan = "flush-partial" | "flush-held" | "check-path" | "idle";

export function planIdle(l: IdleLook): IdlePlan {
  if (l.partialSince !== undefined && (l.draining || l.now - l.partialSince >= l.partialFlushMs)) return "flush-partial";
  if (l.heldSince !== undefined && (l.draining || l.now - l.heldSince >= l.multilineTimeoutMs)) return "flush-held";
  if (l.draining || l.pathHint || l.rotatedAway || l.now - l.lastPathCheck >= l.pollIntervalMs) return "check-path";
  return "idle";
}

// Opening: which file to read first (a generation rotated away before we looked, the file at the
// path, or none), from which offset, or why to wait.

/**
 * Where a newly opened file is read from: its end only for --from end at the very first attempt
 * without a checkpoint (a file that appears later, or one a checkpoint did not match, is all new).
 */
export function startOffset(o: { readonly firstAttempt: boolean; readonly hadCheckpoint: boolean; readonly from: StartPosition; readonly size: number }): number {
  return o.firstAttempt && !o.hadCheckpoint && o.from === "end" ? o.size : 0;
}

/** The checkpoint's birth time (ns), when it recorded a valid one. */
export function checkpointBirthNs(cp: Checkpoint): bigint | undefined {
  return cp.birthtimeNs && /^\d+$/.test(cp.birthtimeNs) ? BigInt(cp.birthtimeNs) : undefined;
}

/**
 * The checkpointed file's key in the owners registry, claimed before the first look: it may have
 * been rotated to another followed name while we were down, and is ours to finish from the
 * checkpoint, not the other path's to read from 0. None without a birth time (the key needs one).
 */
export function checkpointedKey(cp: Checkpoint | undefined): string | undefined {
  const birthtimeNs = cp ? checkpointBirthNs(cp) : undefined;
  if (!cp || birthtimeNs === undefined || !/^\d+$/.test(cp.identity.dev) || !/^\d+$/.test(cp.identity.ino)) return undefined;
  return keyOf({ dev: BigInt(cp.identity.dev), ino: BigInt(cp.identity.ino), birthtimeNs });
}

/** Why opening the path threw: nothing there ("missing"), else the errno code. */
export function openError(e: unknown): NotFollowedReason {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOENT" ? "missing" : (code ?? String(e));
}

/** What resume.ts planned (a ResumePlan, without the files it holds open). */
export type ResumeFound =
  | { readonly kind: "continue"; readonly offset: number }
  | { readonly kind: "rotated"; readonly offset: number; readonly rotatedPath: string; readonly refilled: boolean }
  | { readonly kind: "fresh"; readonly reason: string };

/** How a resume plan is carried out. */
export interface ResumeSteps {
  readonly log: LogEntry;
  /** Truncated and refilled before its rotation: counted as a truncation, its identity taken anew (the checkpoint's describes the old content). */
  readonly refilled: boolean;
  /** Read under a rotated name: look at the path every step until it is let go. */
  readonly rotatedAway: boolean;
  /** "fresh": where the wait for the path starts (rotated siblings born since may be generations not read); else undefined. */
  readonly sinceNs: bigint | undefined;
}

export function planResumed(found: ResumeFound, cp: Checkpoint): ResumeSteps {
  if (found.kind === "fresh") {
    // Files born after the checkpointed one (or, without birth times, since the last save) may be
    // rotated-away generations we have not read.
    const born = checkpointBirthNs(cp) ?? 0n;
    const sinceNs = born > 0n ? born + 1n : BigInt(Date.parse(cp.savedAt) - 50) * 1_000_000n;
    return { log: { level: "warn", msg: "checkpoint does not match the file: reading it from the start", fields: { reason: found.reason } }, refilled: false, rotatedAway: false, sinceNs };
  }
  const rotated = found.kind === "rotated";
  const refilled = rotated && found.refilled;
  const msg = refilled
    ? "file truncated, refilled and rotated while stopped: reading the rotated file from the start, then following the path"
    : rotated
      ? "finishing a file rotated while stopped, then following the path"
      : "resuming from checkpoint";
  const fields = {
    offset: found.offset,
    ...(cp.midLine ? { midLine: true } : {}),
    ...(cp.pending ? { owedBytes: Buffer.byteLength(cp.pending, "base64") } : {}),
    ...(rotated ? { rotatedTo: found.rotatedPath } : {}),
  };
  return { log: { level: refilled ? "warn" : "info", msg, fields }, refilled, rotatedAway: rotated, sinceNs: undefined };
}

/** A file about to be read from `offset`, against where another path's follower stopped reading it. */
export interface TakeLook {
  readonly offset: number;
  /** By fstat: still a regular file (a sibling may have become something else after its stat). */
  readonly isFile: boolean;
  readonly birthtimeNs: bigint;
  readonly size: bigint;
  /** Where another path's follower stopped after reading the file to its end, if one did. */
  readonly finished: Finished | undefined;
  /** The caller checked the bytes just before `offset` itself (a resume, against its checkpoint). */
  readonly checkedBefore: boolean;
  /** The file still starts with the finished one's first bytes (undefined: not compared yet). */
  readonly sameHead?: boolean | undefined;
}

export type TakePlan =
  /** No regular file: close it, read nothing. */
  | { readonly kind: "refuse" }
  /** Read further under another path: compare its first bytes with that file's (`identity`), then decide again. */
  | { readonly kind: "compare-head"; readonly identity: FileIdentity }
  /**
   * Claim it and read from `start`. `before`: the bytes just before `start` for the reader to check
   * before its first read ("given": the caller's), so a file truncated and refilled past `start`
   * before anything was appended is not read from the middle of its new content.
   * `handedOn`: taken on where another path's follower stopped.
   */
  | { readonly kind: "claim"; readonly start: number; readonly before: "given" | { readonly at: number; readonly length: number }; readonly handedOn: LogEntry | undefined };

export function planTake(t: TakeLook): TakePlan {
  if (!t.isFile) return { kind: "refuse" };
  // Without a birth time a new file on a reused inode with the same first bytes would pass for the
  // finished one and lose its start: read it from `offset` (twice, at worst, never lost).
  const f = t.finished;
  const handOn = f !== undefined && t.birthtimeNs !== 0n && f.offset > t.offset && BigInt(f.offset) <= t.size;
  if (handOn && t.sameHead === undefined) return { kind: "compare-head", identity: f.identity };
  if (handOn && t.sameHead) {
    const n = Math.min(f.offset, VERIFIED_BEFORE_BYTES);
    const log: LogEntry = { level: "info", msg: "file already read up to here: going on from there", fields: { offset: f.offset, readAs: f.path } };
    return { kind: "claim", start: f.offset, before: { at: f.offset - n, length: n }, handedOn: log };
  }
  const n = Math.min(t.offset, VERIFIED_BEFORE_BYTES);
  return { kind: "claim", start: t.offset, before: t.checkedBefore ? "given" : { at: t.offset - n, length: n }, handedOn: undefined };
}

/** What became of a take (follower.ts's #take): read from `offset`, or not (another path's follower reads it; none: no regular file). */
export type Taken = { readonly adopted: true; readonly offset: number } | { readonly adopted: false; readonly followedAs?: string | undefined };

/** No file to read: wait; say why (not-followed.ts) when there is a reason. */
export interface Wait {
  readonly kind: "wait";
  readonly reason: NotFollowedReason | undefined;
  readonly fields: Fields;
}

/** A look's outcome: a file taken, to read (logging `log` if there is one), or a wait. */
export type Opened = { readonly kind: "read"; readonly log: LogEntry | undefined } | Wait;

export type OpenPlan =
  | Opened
  /** Search the path's rotated siblings for a generation born since `afterBirthNs` and never seen at the path, and take it. */
  | { readonly kind: "look-for-skipped"; readonly afterBirthNs: bigint }
  /** Ask the owners registry whether another path's follower reads the file at the path. */
  | { readonly kind: "ask-owner" }
  /** Take the file at the path (from startOffset). */
  | { readonly kind: "take" };

/** After a take: read the file (`announce`: say from which offset), or wait (planNotTaken). */
export function planTaken(t: Taken, announce: boolean): Opened {
  if (!t.adopted) return planNotTaken(t.followedAs);
  return { kind: "read", log: announce ? { level: "info", msg: "following file", fields: { offset: t.offset } } : undefined };
}

/** A take refused: another path's follower reads the file (said), or it is no regular file any more (not said: the next look tells why). */
export function planNotTaken(followedAs: string | undefined): Wait {
  return followedAs === undefined ? { kind: "wait", reason: undefined, fields: {} } : { kind: "wait", reason: "followed-elsewhere", fields: { followedAs } };
}

/** A look at the path from the waiting state, gathered step by step. */
export interface OpenLook {
  /** Opening the path gave a regular file, or why not. */
  readonly atPath: "opened" | { readonly refused: NotFollowedReason };
  /** The wait's start: a rotated sibling born since holds lines not read (undefined: none can). */
  readonly sinceNs: bigint | undefined;
  /** The wait was reported (a reason given), or no file was announced yet: say which file is read. */
  readonly announce: boolean;
  /** The generation rotated away before we looked, taken (null: none; undefined: not looked for yet). */
  readonly skipped?: string | null | undefined;
  /** The other path whose follower reads the file at the path (null: none; undefined: not asked yet). */
  readonly ownedBy?: string | null | undefined;
  /** The take of the file at the path (undefined: not taken yet). */
  readonly taken?: Taken | undefined;
}

/**
 * A file may have appeared at the path and been rotated away between two looks: its rotated name
 * is a sibling born while we waited, and it comes before whatever is at the path now (searched
 * after the open, so nothing can be rotated away between the search and the open). A file read
 * under another path now is left alone (no fingerprint, a hash every poll, until it is let go).
 */
export function planOpen(l: OpenLook): OpenPlan {
  if (l.skipped === undefined && l.sinceNs !== undefined) return { kind: "look-for-skipped", afterBirthNs: l.sinceNs };
  if (typeof l.skipped === "string") return { kind: "read", log: { level: "warn", msg: "a file was at the path and rotated away before we looked: reading it first", fields: { rotated: l.skipped } } };
  if (l.atPath !== "opened") return { kind: "wait", reason: l.atPath.refused, fields: {} };
  if (l.ownedBy === undefined) return { kind: "ask-owner" };
  if (l.ownedBy !== null) return { kind: "wait", reason: "followed-elsewhere", fields: { followedAs: l.ownedBy } };
  if (l.taken === undefined) return { kind: "take" };
  return planTaken(l.taken, l.announce);
}

/**
 * After a rotation, once ours is read to its end and let go: a generation never seen at the path
 * (rotated twice between looks), if one was taken, is read first; else the path, waiting from
 * where generations after ours begin.
 */
export function planRotatedOn(skipped: string | undefined, ours: FinishedFile, resumedIno: bigint | undefined): { readonly kind: "read"; readonly log: LogEntry } | { readonly kind: "open-path"; readonly sinceNs: bigint } {
  if (skipped !== undefined) return { kind: "read", log: { level: "warn", msg: "a rotated file was never seen at the path (rotated twice between looks): reading it first", fields: { skipped } } };
  return { kind: "open-path", sinceNs: waitingSince(ours, resumedIno) };
}

// The periodic look at the file and at the path.

/** After a rotation to an empty new file, how long the old file must stay quiet before we let it go. */
export const ROTATION_GRACE_MS = 2000;

/** The open file, as fstat and the fingerprint see it now, against how far it was read. */
export interface FileLook {
  readonly match: Match;
  readonly size: number;
  readonly pos: number;
}

/**
 * "truncated": other content, or shorter than what was read: read it again from 0 (after looking
 * for a copytruncate copy). "unread": more bytes than read (the watch hint was lost or late).
 * "read": read to its end; look at the path next.
 */
export type FileVerdict = "truncated" | "unread" | "read";

export function judgeFile(f: FileLook): FileVerdict {
  if (f.match === "different" || f.size < f.pos) return "truncated";
  return f.size > f.pos ? "unread" : "read";
}

/** The path, against the file read to its end. */
export interface PathLook {
  /** What is at the path now (by name), if anything. */
  readonly atPath: { readonly dev: string; readonly ino: string; readonly size: bigint } | undefined;
  /** The file we read. */
  readonly ours: { readonly dev: string; readonly ino: string };
  /** Nothing at the path: whether a rotated generation newer than ours was found (undefined: not looked yet). */
  readonly newerRotated?: boolean | undefined;
  /** Since our file last gave us bytes. */
  readonly quietMs: number;
  /** SIGTERM came: switch without the grace. */
  readonly draining: boolean;
}

export type PathPlan =
  /** The path still names our file. */
  | { readonly kind: "same-file" }
  /** Nothing at the path: look for a rotated generation newer than ours, then decide again. */
  | { readonly kind: "look-for-newer" }
  /**
   * Our file was renamed or deleted; keep reading it for now: nothing newer exists yet (a writer
   * still appends to the old file until it opens the new one), or the new file at the path is
   * empty and ours was written to less than ROTATION_GRACE_MS ago.
   */
  | { readonly kind: "keep-ours" }
  /** Read ours to its end, let it go, and follow the next generation. */
  | { readonly kind: "switch" };

export function planPath(p: PathLook): PathPlan {
  const at = p.atPath;
  if (at && at.dev === p.ours.dev && at.ino === p.ours.ino) return { kind: "same-file" };
  if (!at) {
    if (p.newerRotated === undefined) return { kind: "look-for-newer" };
    if (!p.newerRotated) return { kind: "keep-ours" };
  }
  // A writer puts its last bytes into the old file before its first into the new one, so once the
  // new file has data, the old one read to its end (after that stat) is complete.
  if (at?.size === 0n && p.quietMs < ROTATION_GRACE_MS && !p.draining) return { kind: "keep-ours" };
  return { kind: "switch" };
}

/** A file we read to its end, as fstat names it. */
export interface FinishedFile {
  readonly ino: bigint;
  readonly birthtimeNs: bigint;
}

/**
 * Which rotated siblings may be generations after `ours` that we never saw at the path: born
 * from ours' birth on (the same clock tick included), except after a resume into ours, when files
 * of its tick may be ones read before the restart, which the done set no longer holds.
 */
export function generationsAfter(ours: FinishedFile, resumedIno: bigint | undefined): { readonly afterBirthNs: bigint; readonly inclusive: boolean } {
  const resumed = ours.ino === resumedIno;
  return { afterBirthNs: ours.birthtimeNs, inclusive: !resumed };
}

/** The same bound as a wait's start: siblings born at or after it (see generationsAfter). */
export function waitingSince(ours: FinishedFile, resumedIno: bigint | undefined): bigint {
  const g = generationsAfter(ours, resumedIno);
  return g.afterBirthNs + (g.inclusive ? 0n : 1n);
}

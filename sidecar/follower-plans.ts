// A follower's decisions, as plain functions: what it observed in, a plan out. follower.ts
// gathers the observations (each only when the one before calls for it: a stat of the path only
// once the file is read to its end) and carries the plans out. One module for all of them: every
// module a sidecar loads costs idle memory (docs/decisions.md).
import type { StartPosition } from "./config.ts";
import type { Match } from "./identity.ts";

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

/**
 * Where a newly opened file is read from: its end only for --from end at the very first attempt
 * without a checkpoint (a file that appears later, or one a checkpoint did not match, is all new).
 */
export function startOffset(o: { readonly firstAttempt: boolean; readonly hadCheckpoint: boolean; readonly from: StartPosition; readonly size: number }): number {
  return o.firstAttempt && !o.hadCheckpoint && o.from === "end" ? o.size : 0;
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

// What a follower does with a step once its file is read to its end, as a decision: write an
// unfinished last line, write what a multiline transform holds, look at the path, or wait.
// Only after the read: bytes to read always come first.
import type { StartPosition } from "./config.ts";

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

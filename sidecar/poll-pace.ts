// How long a follower waits for an fs.watch hint before it polls its file again. While the file
// is written, while no watch stands (no directory yet, an error) and when the path is a symlink,
// the poll runs at --poll-interval; once a watched file has been quiet for QUIET_AFTER_MS it
// slows to --quiet-poll-interval. A quiet file's next write comes with a hint (inotify sees every
// write of the pod's own containers), so the slower poll only matters if that hint is lost, and
// then delays the lines, never loses them. Idle polls were most of an idle sidecar's CPU
// (docs/decisions.md: 140–180 ms a minute at a steady 250 ms, 40–60 with the quiet pace).

/** A file with no new bytes for this long counts as quiet. */
export const QUIET_AFTER_MS = 10_000;

export interface PaceInput {
  readonly now: number;
  /** When the follower last read bytes (or opened its file). */
  readonly lastDataAt: number;
  /**
   * Whether a write to the file wakes the follower (Waker.watching: a standing watch, no symlink).
   * Asked only once the file is quiet: it costs an lstat, which a busy file need not pay.
   */
  readonly watching: () => boolean;
  /** A flush the follower owes (partial line, multiline record), if any. */
  readonly deadline: number | undefined;
  readonly pollIntervalMs: number;
  readonly quietPollIntervalMs: number;
}

export function pollWait(p: PaceInput): number {
  const quiet = p.now - p.lastDataAt >= QUIET_AFTER_MS && p.watching();
  const interval = quiet ? Math.max(p.pollIntervalMs, p.quietPollIntervalMs) : p.pollIntervalMs;
  return p.deadline === undefined ? interval : Math.max(0, Math.min(interval, p.deadline - p.now));
}

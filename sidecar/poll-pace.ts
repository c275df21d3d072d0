// How long a follower waits for an fs.watch hint before it polls its file again. While the file
// is written, while no watch stands (no directory yet, an error) and when the path is a symlink,
// the poll runs at --poll-interval; once a watched file has been quiet for QUIET_AFTER_MS it slows
// to --quiet-poll-interval (default 1 min). A quiet file's next write, its truncation, its rename
// and its deletion all come with a hint (inotify on the directory sees every write of the pod's
// own containers), so the slow poll is only the safety net for a lost hint (an inotify queue
// overflow, a filesystem that takes the watch but never reports: NFS written from another host,
// some FUSE), and then it delays the lines, never loses them. The one decision no hint announces,
// letting an old file go after a rotation to an empty new one (ROTATION_GRACE_MS, 2 s after the
// old file's last bytes), falls within the fast pace: a file counts as quiet only after 10 s.
// Idle wake-ups were most of an idle sidecar's CPU (docs/decisions.md, "Idle wake-ups").

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

// Plain counters kept by the pipeline at no cost; metrics.ts exposes them to Prometheus only when
// --metrics-port is set, so a sidecar without metrics never loads prom-client.

export interface FileStats {
  linesRead: number;
  bytesRead: number;
  linesWritten: number;
  bytesWritten: number;
  rotations: number;
  truncations: number;
  /**
   * Bytes seen in the file (by its size) but neither read nor found in a copy when it was
   * truncated: the copytruncate loss exactly when nothing was written after that look, else a
   * lower bound (the copy-to-truncate window is in no file and was never seen).
   */
  truncatedUnreadBytes: number;
  longLinesSplit: number;
  /** Bytes of the file whose disk blocks --reclaim punched out (reclaim.ts). */
  reclaimedBytes: number;
  /** Punches that failed (reclaim.ts says why, once a cause). */
  reclaimFailures: number;
  /** Size of the current file minus the acknowledged offset, as of the last look. */
  lagBytes: number;
  /** Why no file is being read for the path (not-followed.ts), while that lasts; undefined while one is. */
  notFollowed: string | undefined;
  /** Date.now() when the path was first looked at (a file opened, or a reason to wait found); undefined before. */
  lookedAt: number | undefined;
}

export interface Stats {
  readonly files: Map<string, FileStats>;
  /** Date.now() of the last successful checkpoint save; undefined before the first. */
  lastCheckpointAt: number | undefined;
  /** Checkpoint saves that failed (the directory cannot be made or written). */
  checkpointSaveFailures: number;
}

export function createStats(paths: readonly string[]): Stats {
  const files = new Map<string, FileStats>();
  for (const p of paths) files.set(p, newFileStats());
  return { files, lastCheckpointAt: undefined, checkpointSaveFailures: 0 };
}

export function newFileStats(): FileStats {
  return {
    linesRead: 0,
    bytesRead: 0,
    linesWritten: 0,
    bytesWritten: 0,
    rotations: 0,
    truncations: 0,
    truncatedUnreadBytes: 0,
    longLinesSplit: 0,
    reclaimedBytes: 0,
    reclaimFailures: 0,
    lagBytes: 0,
    notFollowed: undefined,
    lookedAt: undefined,
  };
}

// Bounded disk (--reclaim): after a checkpoint is saved, the disk blocks of the file's prefix that
// was delivered and checkpointed are freed (punch-hole.ts), in steps of at least --reclaim bytes,
// so a file that is never rotated takes about its unread tail on disk. Never past the checkpoint,
// never the bytes a restart or a poll checks again (the first block, whose bytes are the file's
// identity, and the bytes just before the checkpoint offset), never a file other than the
// checkpointed one. A failure frees nothing and loses nothing: it is said once, counted, and for
// a cause that does not pass (no support, no permission, no tool) reclaim stops for the path.
import type { Checkpoint } from "./checkpoint.ts";
import type { OpenFile } from "./files.ts";
import { FINGERPRINT_MAX, type FileIdentity } from "./identity.ts";
import { log } from "./log.ts";
import { punchHole, type PunchFailure } from "./punch-hole.ts";
import type { FileStats } from "./stats.ts";

/** Filesystem block: punching whole blocks frees them; a partial block would only be zeroed. */
export const BLOCK_BYTES = 4096;
/** Kept: the bytes the file's identity is a hash of (identity.ts), which every poll compares. */
export const KEPT_HEAD_BYTES = Math.ceil(FINGERPRINT_MAX / BLOCK_BYTES) * BLOCK_BYTES;
/** Kept before the checkpoint offset: a resume checks 64 bytes there (tailHash), the reader 32. */
export const KEPT_BEFORE_OFFSET = 64;

/**
 * The range to punch once `checkpointed` (the saved checkpoint's offset) is known and the blocks
 * before `freedTo` are freed already; undefined until at least `step` bytes more can go. Pure.
 */
export function reclaimRange(checkpointed: number, freedTo: number, step: number): { offset: number; length: number } | undefined {
  const from = Math.max(freedTo, KEPT_HEAD_BYTES);
  const to = Math.floor((checkpointed - KEPT_BEFORE_OFFSET) / BLOCK_BYTES) * BLOCK_BYTES;
  return to - from >= step && to > from ? { offset: from, length: to - from } : undefined;
}

const FAILURE_TEXT: Record<PunchFailure, string> = {
  unsupported: "reclaim: the file's filesystem cannot punch holes (fallocate PUNCH_HOLE: EOPNOTSUPP); nothing is freed and nothing is lost; reclaim is off for this path",
  denied: "reclaim: the sidecar cannot open the file for writing (it needs write permission on the file and a writable mount); nothing is freed and nothing is lost; reclaim is off for this path",
  "no-tool": "reclaim: no fallocate that punches holes (util-linux's) in the sidecar's image; nothing is freed and nothing is lost; reclaim is off for this path",
  failed: "reclaim: punching a hole failed; nothing is freed and nothing is lost; tried again after the next checkpoint",
};

const sameContent = (a: FileIdentity, b: FileIdentity): boolean => a.dev === b.dev && a.ino === b.ino && a.fingerprint === b.fingerprint;

/** One followed path's reclaiming: how far the file read now is freed, and whether reclaim was given up. */
export class Reclaimer {
  readonly #path: string;
  readonly #step: number;
  readonly #stats: FileStats;
  #file: FileIdentity | undefined;
  #freedTo = 0;
  #off = false;
  readonly #said = new Set<PunchFailure>();

  constructor(path: string, step: number, stats: FileStats) {
    this.#path = path;
    this.#step = step;
    this.#stats = stats;
  }

  /**
   * Frees what `cp` (just saved) allows of `fh`, the file it was taken from. `stillOurs`: whether
   * the follower still reads `fh` as that file, asked again just before the punch.
   */
  async afterSave(fh: OpenFile, cp: Checkpoint, stillOurs: () => boolean): Promise<void> {
    if (this.#off) return;
    if (this.#file === undefined || !sameContent(this.#file, cp.identity)) {
      // Another file, or this one truncated and refilled: nothing of it is known to be freed.
      this.#file = cp.identity;
      this.#freedTo = 0;
    }
    const range = reclaimRange(cp.offset, this.#freedTo, this.#step);
    if (range === undefined) return;
    const st = await fh.stat({ bigint: true });
    // The descriptor is the checkpointed file (device, inode), not shorter than the offset (a
    // truncation since the save), and the follower still reads it as that file.
    if (st.dev.toString() !== cp.identity.dev || st.ino.toString() !== cp.identity.ino || st.size < BigInt(cp.offset)) return;
    const r = await punchHole(fh, range.offset, range.length, stillOurs);
    if (r === "skipped") return;
    if (r.ok) {
      this.#freedTo = range.offset + range.length;
      this.#stats.reclaimedBytes += range.length;
      return;
    }
    this.#stats.reclaimFailures++;
    if (r.reason !== "failed") this.#off = true;
    if (this.#said.has(r.reason)) return;
    this.#said.add(r.reason);
    log("warn", FAILURE_TEXT[r.reason], { file: this.#path, reason: r.reason, error: r.message, offset: range.offset, length: range.length });
  }
}

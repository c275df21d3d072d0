// Where to start reading a path after a restart, from its checkpoint. The offset is only trusted
// when the file is the same one (device, inode, fingerprint) and the bytes before the offset still
// match; a file rotated away while we were down is looked for beside the path by its inode, so its
// unread end is not lost.
//
// The path is looked at once: the file opened there is the one the plan judges and the one it
// hands on, read even if it is renamed a moment later. Closing it and opening the path again lost
// a file truncated, refilled and renamed during the resume (seen by neither look, and born before
// the checkpointed file's birth + 1, where the search for skipped rotations starts).
import { open, openFollowable, type OpenFile } from "./files.ts";
import type { BigIntStats } from "node:fs";
import { basename } from "node:path";
import type { Checkpoint } from "./checkpoint.ts";
import { checkpointBirthNs } from "./follower-plans.ts";
import { compareIdentity, readAt } from "./identity.ts";
import { sha256Hex } from "./sha256.ts";
import { isOtherName, isRotatedName, scanSiblings, type Sibling } from "./rotated-siblings.ts";

export type ResumePlan =
  /** The file at the path is the checkpointed one: continue at offset. `before`: its bytes just before offset, as checked. */
  | { kind: "continue"; fh: OpenFile; offset: number; before: Buffer }
  /**
   * The checkpointed file was rotated to `rotatedPath`: finish it from offset, then follow the path
   * from 0. `refilled`: it was truncated and written again before the rotation, so offset is 0 and
   * the checkpoint's identity no longer describes it.
   */
  | { kind: "rotated"; fh: OpenFile; offset: number; rotatedPath: string; refilled: boolean; before: Buffer }
  /**
   * Nothing usable: the path holds other content (rotated, truncated or replaced while we were
   * down). `atPath`: the file found at the path, to be read from 0 (undefined: none was there).
   */
  | { kind: "fresh"; reason: string; atPath: { fh: OpenFile; st: BigIntStats } | undefined };

/** The checkpointed bytes before the offset, if `fh` is the checkpointed file and still holds them; else why not. */
async function matches(fh: OpenFile, cp: Checkpoint): Promise<{ before: Buffer } | { reason: string }> {
  try {
    if ((await compareIdentity(fh, cp.identity)) === "different") return { reason: "identity (device, inode, first bytes) differs" };
    const { size } = await fh.stat();
    if (size < cp.offset) return { reason: `file is shorter (${size} bytes) than the checkpoint offset ${cp.offset}` };
    const before = await readAt(fh, cp.offset - cp.tail.length, cp.tail.length);
    if (before.length !== cp.tail.length || sha256Hex(before) !== cp.tail.sha256) return { reason: "the bytes before the checkpoint offset changed" };
    return { before };
  } catch (e) {
    return { reason: String(e) };
  }
}

/** Whether the open file `st` is the checkpointed one (by device, inode and, when recorded, birth time), whatever it holds now. */
function isCheckpointedFile(st: BigIntStats, cp: Checkpoint): boolean {
  const born = checkpointBirthNs(cp);
  return st.dev.toString() === cp.identity.dev && st.ino.toString() === cp.identity.ino && (born === undefined || born === st.birthtimeNs);
}

/** Siblings that are the checkpointed file by device and inode (whatever they hold now). */
export function withCheckpointedInode(siblings: readonly Sibling[], cp: Checkpoint): Sibling[] {
  return siblings.filter((s) => s.st.ino.toString() === cp.identity.ino && s.st.dev.toString() === cp.identity.dev);
}

/**
 * Rotated files usually stay in the same directory (app.log.1): find one with the checkpoint's inode.
 * One whose bytes no longer match was truncated and refilled before it was rotated (copytruncate,
 * then a rename, while we were down): its content is all new, to be read from the start. Only a
 * rotated name of the path counts for that, not any file that may have reused the inode. The
 * path's own name is not listed: planResume judged it already, by the descriptor it holds.
 */
async function findRotated(path: string, cp: Checkpoint): Promise<{ fh: OpenFile; rotatedPath: string; refilled: boolean; before: Buffer } | undefined> {
  const base = basename(path);
  for (const candidate of withCheckpointedInode(await scanSiblings(path, isOtherName), cp)) {
    const fh = await open(candidate.path, "r").catch(() => undefined);
    if (fh === undefined) continue;
    const m = await matches(fh, cp);
    if ("before" in m) return { fh, rotatedPath: candidate.path, refilled: false, before: m.before };
    if (isRotatedName(base, candidate.name)) return { fh, rotatedPath: candidate.path, refilled: true, before: Buffer.alloc(0) };
    await fh.close();
  }
  return undefined;
}

export async function planResume(path: string, cp: Checkpoint): Promise<ResumePlan> {
  let atPath: { fh: OpenFile; st: BigIntStats } | undefined;
  let reason = "the path does not exist and the checkpointed file is gone";
  try {
    const opened = await openFollowable(path);
    if ("refused" in opened) reason = `the path holds no followable file (${opened.refused}) and the checkpointed file is gone`;
    else atPath = opened;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT") reason = `the path cannot be opened (${code ?? String(e)}) and the checkpointed file is gone`;
  }
  if (atPath) {
    const m = await matches(atPath.fh, cp);
    if ("before" in m) return { kind: "continue", fh: atPath.fh, offset: cp.offset, before: m.before };
    reason = m.reason;
    // The checkpointed file itself, truncated (and refilled) in place: no rotated name holds it.
    if (isCheckpointedFile(atPath.st, cp)) return { kind: "fresh", reason, atPath };
  }
  const rotated = await findRotated(path, cp);
  if (rotated) {
    await atPath?.fh.close();
    return { kind: "rotated", ...rotated, offset: rotated.refilled ? 0 : cp.offset };
  }
  return { kind: "fresh", reason, atPath };
}

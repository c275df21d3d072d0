// Where to start reading a path after a restart, from its checkpoint. The offset is only trusted
// when the file is the same one (device, inode, fingerprint) and the bytes before the offset still
// match; a file rotated away while we were down is looked for beside the path by its inode, so its
// unread end is not lost.
import { open, readdir, stat, type OpenFile } from "./files.ts";
import { basename, dirname, join } from "node:path";
import type { Checkpoint } from "./checkpoint.ts";
import { compareIdentity, tailHash } from "./identity.ts";
import { isRotatedName } from "./skipped-rotations.ts";

export type ResumePlan =
  /** The file at the path is the checkpointed one: continue at offset. */
  | { kind: "continue"; fh: OpenFile; offset: number }
  /**
   * The checkpointed file was rotated to `rotatedPath`: finish it from offset, then follow the path
   * from 0. `refilled`: it was truncated and written again before the rotation, so offset is 0 and
   * the checkpoint's identity no longer describes it.
   */
  | { kind: "rotated"; fh: OpenFile; offset: number; rotatedPath: string; refilled: boolean }
  /** Nothing usable: the path holds other content (rotated, truncated or replaced while we were down). */
  | { kind: "fresh"; reason: string };

async function matches(fh: OpenFile, cp: Checkpoint): Promise<string | undefined> {
  if ((await compareIdentity(fh, cp.identity)) === "different") return "identity (device, inode, first bytes) differs";
  const { size } = await fh.stat();
  if (size < cp.offset) return `file is shorter (${size} bytes) than the checkpoint offset ${cp.offset}`;
  const tail = await tailHash(fh, cp.offset);
  if (tail.sha256 !== cp.tail.sha256) return "the bytes before the checkpoint offset changed";
  return undefined;
}

/** Whether `fh` is the checkpointed file with the checkpointed bytes before the offset. */
async function isCheckpointed(fh: OpenFile, cp: Checkpoint): Promise<boolean> {
  return (await matches(fh, cp).catch((e: unknown) => String(e))) === undefined;
}

async function openIfMatching(path: string, cp: Checkpoint): Promise<OpenFile | undefined> {
  const fh = await open(path, "r").catch(() => undefined);
  if (fh === undefined || (await isCheckpointed(fh, cp))) return fh;
  await fh.close();
  return undefined;
}

/**
 * Rotated files usually stay in the same directory (app.log.1): find one with the checkpoint's inode.
 * One whose bytes no longer match was truncated and refilled before it was rotated (copytruncate,
 * then a rename, while we were down): its content is all new, to be read from the start. Only a
 * rotated name of the path counts for that, not any file that may have reused the inode.
 */
async function findRotated(path: string, cp: Checkpoint): Promise<{ fh: OpenFile; rotatedPath: string; refilled: boolean } | undefined> {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const candidate = join(dir, name);
    const st = await stat(candidate, { bigint: true }).catch(() => undefined);
    if (!st || !st.isFile() || st.ino.toString() !== cp.identity.ino || st.dev.toString() !== cp.identity.dev) continue;
    const fh = await open(candidate, "r").catch(() => undefined);
    if (fh === undefined) continue;
    if (await isCheckpointed(fh, cp)) return { fh, rotatedPath: candidate, refilled: false };
    if (isRotatedName(base, name)) return { fh, rotatedPath: candidate, refilled: true };
    await fh.close();
  }
  return undefined;
}

export async function planResume(path: string, cp: Checkpoint): Promise<ResumePlan> {
  const here = await openIfMatching(path, cp);
  if (here) return { kind: "continue", fh: here, offset: cp.offset };
  const rotated = await findRotated(path, cp);
  if (rotated) return { kind: "rotated", ...rotated, offset: rotated.refilled ? 0 : cp.offset };
  let reason = "the checkpointed file is gone";
  try {
    const fh = await open(path, "r");
    try {
      reason = (await matches(fh, cp)) ?? reason;
    } finally {
      await fh.close();
    }
  } catch {
    reason = "the path does not exist and the checkpointed file is gone";
  }
  return { kind: "fresh", reason };
}

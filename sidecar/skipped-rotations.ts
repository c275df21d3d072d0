// A file can be rotated twice before we look (rotations milliseconds apart, or a starved CPU):
// then the generation in between never sat at the path while we looked. Rotated siblings
// (app.log.1, app.log-2024…) born after the file we finished and before the one now at the path
// are exactly those generations; birth times (statx) order them. File times come from a coarse
// clock (a few ms), so the bounds are inclusive and files already read are excluded by inode.
import { open, readdir, stat, type OpenFile } from "./files.ts";
import { basename, dirname, join } from "node:path";

const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|zip)$/;

/** A rotated generation of the file named `base` that still holds its text: app.log.1, app.log-2024…, not app.log.2.gz. */
export function isRotatedName(base: string, name: string): boolean {
  return name !== base && name.startsWith(base) && !COMPRESSED.test(name);
}

export interface Skipped {
  readonly path: string;
  readonly fh: OpenFile;
}

/**
 * The oldest rotated sibling of `followed` born between `afterBirthNs` (the file just finished)
 * and the birth of the file now at the path, other than the files in `done` ("dev:ino:birth",
 * since a deleted file's inode number is soon given to a new file);
 * undefined when none, or when the filesystem keeps no birth times.
 */
export async function findSkippedRotation(
  followed: string,
  done: ReadonlySet<string>,
  afterBirthNs: bigint,
  /** The file at the path, when the caller has it open already (else it is stat'ed here). */
  atPath?: { ino: bigint; birthtimeNs: bigint },
  /** Also take files born in the same clock tick as afterBirthNs (safe only when `done` holds every file read before). */
  inclusive = true,
): Promise<Skipped | undefined> {
  if (afterBirthNs === 0n) return undefined;
  const current = atPath ?? (await stat(followed, { bigint: true }).catch(() => undefined));
  const before = current?.birthtimeNs ?? BigInt(Date.now()) * 1_000_000n;
  if (before === 0n) return undefined;
  const dir = dirname(followed);
  const base = basename(followed);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  let best: { path: string; birth: bigint; ino: bigint } | undefined;
  for (const name of names) {
    if (!isRotatedName(base, name)) continue;
    const path = join(dir, name);
    const st = await stat(path, { bigint: true }).catch(() => undefined);
    if (!st || !st.isFile() || done.has(`${st.dev}:${st.ino}:${st.birthtimeNs}`) || st.ino === current?.ino) continue;
    const birth = st.birthtimeNs;
    if (!(inclusive ? birth >= afterBirthNs : birth > afterBirthNs) || birth > before) continue;
    // Same tick: the lower inode number was (usually) allocated first.
    if (!best || birth < best.birth || (birth === best.birth && st.ino < best.ino)) best = { path, birth, ino: st.ino };
  }
  if (!best) return undefined;
  const fh = await open(best.path, "r").catch(() => undefined);
  return fh ? { path: best.path, fh } : undefined;
}

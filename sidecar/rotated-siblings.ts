// The files beside a followed path, listed once for the three searches that look there: a resume
// (the checkpointed file under a rotated name, resume.ts), skipped rotations (generations never
// seen at the path, below) and copytruncate (the copy of a truncated file, copytruncate-copy.ts).
// Each chooses among the same listing with a plain function. The skipped-rotation search lives
// here because every follower needs it: one module less to load (idle memory, docs/decisions.md).
import type { BigIntStats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { open, readdir, stat, type OpenFile } from "./files.ts";

const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|zip)$/;

/** A rotated generation of the file named `base` that still holds its text: app.log.1, app.log-2024…, not app.log.2.gz. */
export function isRotatedName(base: string, name: string): boolean {
  return name !== base && name.startsWith(base) && !COMPRESSED.test(name);
}

/** A compressed file (app.log.2.gz): never read as text, never a new log file. */
export function isCompressedName(name: string): boolean {
  return COMPRESSED.test(name);
}

/** A rotation's suffix: a separator, then digits and date punctuation to the end (.1, -20240101, .2024-01-01T10). */
const ROTATION_SUFFIX = /[.\-_]\d[\d.\-_:T]*$/;

/**
 * The names `name` would be a rotated generation of, by the shapes rotation gives them: app.log.1,
 * app.log.2.gz, app.log-20240101 (of app.log; isRotatedName holds for those not compressed), and the shape
 * logrotate's `extension` keeps, app-20240101.log or app.1.log (of app.log). Empty for a name
 * with no rotation suffix. A glob (glob.ts) takes no such name for a new file while its base is
 * there or followed.
 */
export function rotatedBases(name: string): string[] {
  const plain = name.replace(COMPRESSED, "");
  const bases: string[] = [];
  const cut = ROTATION_SUFFIX.exec(plain);
  if (cut && cut.index > 0) bases.push(plain.slice(0, cut.index));
  else if (plain !== name && plain !== "") bases.push(plain); // app.log.gz: app.log compressed whole
  const dot = plain.lastIndexOf(".");
  if (dot > 0) {
    const stem = plain.slice(0, dot);
    const inner = ROTATION_SUFFIX.exec(stem);
    if (inner && inner.index > 0) bases.push(stem.slice(0, inner.index) + plain.slice(dot));
  }
  return bases;
}

/** Any other name in the directory (a rotation may rename a file out of the path's naming scheme). */
export function isOtherName(base: string, name: string): boolean {
  return name !== base;
}

export interface Sibling {
  readonly name: string;
  readonly path: string;
  /** As stat'ed during the scan (the file may have changed or gone since). */
  readonly st: Pick<BigIntStats, "dev" | "ino" | "birthtimeNs" | "size">;
}

/**
 * The regular files in `followed`'s directory whose names pass `which` (by default its rotated
 * names), with their stats, in the directory's order; none when the directory cannot be read.
 */
export async function scanSiblings(followed: string, which: (base: string, name: string) => boolean = isRotatedName): Promise<Sibling[]> {
  const dir = dirname(followed);
  const base = basename(followed);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const found: Sibling[] = [];
  for (const name of names) {
    if (!which(base, name)) continue;
    const path = join(dir, name);
    const st = await stat(path, { bigint: true }).catch(() => undefined);
    if (st?.isFile()) found.push({ name, path, st });
  }
  return found;
}

// Skipped generations. A file can be rotated twice before we look (rotations milliseconds apart,
// or a starved CPU): then the generation in between never sat at the path while we looked.
// Rotated siblings born after the file we finished and before the one now at the path are
// exactly those generations; birth times (statx) order them. File times come from a coarse clock
// (a few ms), so the bounds are inclusive and files already read are excluded by inode.

export interface Skipped {
  readonly path: string;
  readonly fh: OpenFile;
}

export interface SkippedBounds {
  /** Files ("dev:ino:birth") read already: a deleted file's inode number is soon given to a new file. */
  readonly done: ReadonlySet<string>;
  /** Birth (ns) of the file just finished, or of the wait's start. */
  readonly afterBirthNs: bigint;
  /** Also born in the same clock tick as afterBirthNs (safe only when `done` holds every file read before). */
  readonly inclusive: boolean;
  /** Birth (ns) of the file at the path now, or the time of the look when there is none. */
  readonly beforeBirthNs: bigint;
  /** The file at the path now, never a skipped generation of itself. */
  readonly currentIno: bigint | undefined;
}

/** The oldest rotated sibling born within the bounds and not read yet; the lower inode first within one clock tick. */
export function pickSkipped(siblings: readonly Sibling[], b: SkippedBounds): Sibling | undefined {
  let best: Sibling | undefined;
  for (const s of siblings) {
    const { dev, ino, birthtimeNs: birth } = s.st;
    if (b.done.has(`${dev}:${ino}:${birth}`) || ino === b.currentIno) continue;
    if (!(b.inclusive ? birth >= b.afterBirthNs : birth > b.afterBirthNs) || birth > b.beforeBirthNs) continue;
    // Same tick: the lower inode number was (usually) allocated first.
    if (!best || birth < best.st.birthtimeNs || (birth === best.st.birthtimeNs && ino < best.st.ino)) best = s;
  }
  return best;
}

/**
 * The oldest rotated sibling of `followed` born between `afterBirthNs` (the file just finished)
 * and the birth of the file now at the path, other than the files in `done`, opened;
 * undefined when none, or when the filesystem keeps no birth times.
 */
export async function findSkippedRotation(
  followed: string,
  done: ReadonlySet<string>,
  afterBirthNs: bigint,
  /** The file at the path, when the caller has it open already (else it is stat'ed here). */
  atPath?: { ino: bigint; birthtimeNs: bigint },
  inclusive = true,
): Promise<Skipped | undefined> {
  if (afterBirthNs === 0n) return undefined;
  const current = atPath ?? (await stat(followed, { bigint: true }).catch(() => undefined));
  const beforeBirthNs = current?.birthtimeNs ?? BigInt(Date.now()) * 1_000_000n;
  if (beforeBirthNs === 0n) return undefined;
  const best = pickSkipped(await scanSiblings(followed), { done, afterBirthNs, inclusive, beforeBirthNs, currentIno: current?.ino });
  if (!best) return undefined;
  const fh = await open(best.path, "r").catch(() => undefined);
  return fh ? { path: best.path, fh } : undefined;
}

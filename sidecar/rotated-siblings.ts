// The files beside a followed path, listed once for the three searches that look there: a resume
// (the checkpointed file under a rotated name), skipped rotations (generations never seen at the
// path) and copytruncate (the copy of a truncated file). Each chooses among the same listing.
import type { BigIntStats } from "node:fs";
import { basename, dirname, join } from "node:path";
import { readdir, stat } from "./files.ts";

const COMPRESSED = /\.(gz|bz2|xz|zst|lz4|zip)$/;

/** A rotated generation of the file named `base` that still holds its text: app.log.1, app.log-2024…, not app.log.2.gz. */
export function isRotatedName(base: string, name: string): boolean {
  return name !== base && name.startsWith(base) && !COMPRESSED.test(name);
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

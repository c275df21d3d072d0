// Which of the files a glob matches to follow, from one listing: plain functions over the pattern
// (settings/file-glob.ts) and the rotated names rotated-siblings.ts knows. glob-scan.ts lists the
// directories; tailer.ts follows what planScan says and lets go what planRetire says.
import { isExcluded, patternMatches, type Glob } from "../settings/file-glob.ts";
import { isCompressedName, rotatedBases } from "./rotated-siblings.ts";

export { globProblem, isGlob, matches, parseGlob, type Glob } from "../settings/file-glob.ts";

// What to follow, from one listing.

export interface ScanLook {
  /** Every regular file found under the glob's directories that the pattern matches, excludes aside. */
  readonly found: readonly string[];
  /** Paths followed now (by this glob or another entry of the sidecar). */
  readonly followed: ReadonlySet<string>;
  /** Paths this glob followed at some time (a base that is gone for a moment still has its rotations). */
  readonly followedBefore: ReadonlySet<string>;
  /** How many more files may be followed (--max-files less those followed). */
  readonly room: number;
}

export interface ScanPlan {
  /** New files to follow, in path order. */
  readonly follow: readonly string[];
  /** Matching files left out by the cap. */
  readonly overCap: readonly string[];
  /** Found files that are rotated generations of another file, or compressed: never new files. */
  readonly rotated: readonly string[];
  /** Found files that an exclude leaves out. */
  readonly excluded: readonly string[];
}

/**
 * A found file is a rotated generation (not followed: the follower of its base reads it, as
 * follower.ts does for any rotation) when it is compressed, or when taking a rotation suffix off its
 * name (rotated-siblings.ts) gives a name in the same directory that the pattern matches and that
 * is there or was followed.
 */
export function isRotatedGeneration(g: Glob, path: string, present: ReadonlySet<string>, followedBefore: ReadonlySet<string>): boolean {
  const slash = path.lastIndexOf("/");
  const dir = path.slice(0, slash + 1);
  const name = path.slice(slash + 1);
  if (isCompressedName(name)) return true;
  for (const base of rotatedBases(name)) {
    const candidate = dir + base;
    if (patternMatches(g, candidate) && (present.has(candidate) || followedBefore.has(candidate))) return true;
  }
  return false;
}

export function planScan(g: Glob, look: ScanLook): ScanPlan {
  const present = new Set(look.found);
  const follow: string[] = [];
  const overCap: string[] = [];
  const rotated: string[] = [];
  const excluded: string[] = [];
  for (const path of [...look.found].sort()) {
    if (look.followed.has(path)) continue;
    if (isExcluded(g, path)) excluded.push(path);
    else if (isRotatedGeneration(g, path, present, look.followedBefore)) rotated.push(path);
    else if (follow.length < look.room) follow.push(path);
    else overCap.push(path);
  }
  return { follow, overCap, rotated, excluded };
}

/**
 * Which of this glob's followed paths may be let go once their follower is quiet: gone from the
 * listing (deleted, renamed away, excluded) or now a rotated generation of a file that came back.
 */
export function planRetire(g: Glob, look: { readonly found: readonly string[]; readonly ours: Iterable<string>; readonly followedBefore: ReadonlySet<string> }): string[] {
  const present = new Set(look.found);
  const out: string[] = [];
  for (const path of look.ours) {
    if (!present.has(path) || isExcluded(g, path) || isRotatedGeneration(g, path, present, look.followedBefore)) out.push(path);
  }
  return out;
}

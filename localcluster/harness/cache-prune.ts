// The build caches outside the clone (control-plane binaries, ~213 MB an entry) get a new entry for
// every change of pins or Go version. Each use stamps its entry; entries nobody has used for
// PRUNE_AFTER_DAYS are removed, so a developer's cache does not grow with every upgrade. An entry
// with a build lock (a build in progress) is never removed.
import { existsSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUILD_LOCK_FILE } from "./build-lock.ts";

export const PRUNE_AFTER_DAYS = 30;
const STAMP = ".last-used";

/** Marks an entry as used now. */
export function stampUsed(entry: string, now = new Date()): void {
  const stamp = join(entry, STAMP);
  if (!existsSync(stamp)) writeFileSync(stamp, "");
  utimesSync(stamp, now, now);
}

/**
 * When an entry was last used: its stamp, or for an entry from before stamps, the folder itself;
 * undefined when the entry is gone (another clone's prune removed it since the listing).
 */
function lastUsedMs(entry: string): number | undefined {
  return (statSync(join(entry, STAMP), { throwIfNoEntry: false }) ?? statSync(entry, { throwIfNoEntry: false }))?.mtimeMs;
}

/** Removes the entries of `root` other than `keep` unused for `days`; returns the names removed. */
export function pruneUnused(root: string, keep: string, now = Date.now(), days = PRUNE_AFTER_DAYS): string[] {
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const entry = join(root, name);
    // No stat here may throw: two clones' tests can prune the same cache at once, and an entry the
    // other one removed after this listing is simply gone.
    if (entry === keep || statSync(entry, { throwIfNoEntry: false })?.isDirectory() !== true || existsSync(join(entry, BUILD_LOCK_FILE))) continue;
    const lastUsed = lastUsedMs(entry);
    if (lastUsed === undefined || now - lastUsed < days * 86_400_000) continue;
    rmSync(entry, { recursive: true, force: true });
    removed.push(name);
  }
  return removed;
}

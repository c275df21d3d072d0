// The build caches outside the clone drop entries nobody has used for 30 days (harness/cache-prune.ts).
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { BUILD_LOCK_FILE } from "../../localcluster/harness/build-lock.ts";
import { pruneUnused, stampUsed } from "../../localcluster/harness/cache-prune.ts";

const DAY = 86_400_000;

test("cache entries unused for 30 days go; the one in use, recently used, locked ones and plain files stay", (t) => {
  const root = mkdtempSync(join(tmpdir(), "tailcar-cache-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const now = Date.now();
  const entry = (name: string, ageDays: number, extra: (dir: string) => void = () => {}): string => {
    const dir = join(root, name);
    mkdirSync(dir);
    extra(dir);
    const at = new Date(now - ageDays * DAY);
    utimesSync(dir, at, at);
    return dir;
  };
  const current = entry("current", 90);
  entry("old-unstamped", 31);
  entry("old-but-used-lately", 200, (dir) => stampUsed(dir, new Date(now - 2 * DAY)));
  entry("stamped-long-ago", 1, (dir) => stampUsed(dir, new Date(now - 45 * DAY)));
  entry("old-and-building", 60, (dir) => writeFileSync(join(dir, BUILD_LOCK_FILE), "1"));
  entry("young", 29);
  writeFileSync(join(root, "notes.txt"), "");
  utimesSync(join(root, "notes.txt"), new Date(now - 99 * DAY), new Date(now - 99 * DAY));

  assert.deepEqual(pruneUnused(root, current, now).sort(), ["old-unstamped", "stamped-long-ago"]);
  assert.deepEqual(readdirSync(root).sort(), ["current", "notes.txt", "old-and-building", "old-but-used-lately", "young"]);
  assert.deepEqual(pruneUnused(join(root, "missing"), current, now), []);
});

test("an entry that is gone between the listing and its stat (another clone's prune) is skipped, not thrown on", (t) => {
  const root = mkdtempSync(join(tmpdir(), "tailcar-cache-"));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const now = Date.now();
  // A name the listing returns but that no stat finds: what a concurrent removal leaves behind.
  symlinkSync(join(root, "removed-meanwhile"), join(root, "vanished"));
  const old = join(root, "old");
  mkdirSync(old);
  utimesSync(old, new Date(now - 40 * DAY), new Date(now - 40 * DAY));
  assert.deepEqual(pruneUnused(root, join(root, "current"), now), ["old"]);
});

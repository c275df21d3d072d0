// The follower's decisions at its periodic look (sidecar/path-check.ts), as tables: what it saw,
// what it does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generationsAfter, judgeFile, planPath, ROTATION_GRACE_MS, waitingSince, type FileLook, type PathLook, type PathPlan } from "../../sidecar/path-check.ts";

test("the open file: other content or shorter is a truncation, longer is unread, else read to its end", () => {
  const rows: [FileLook, ReturnType<typeof judgeFile>][] = [
    [{ match: "different", size: 500, pos: 100 }, "truncated"],
    [{ match: "different", size: 100, pos: 100 }, "truncated"],
    [{ match: "same", size: 99, pos: 100 }, "truncated"],
    [{ match: "grown", size: 99, pos: 100 }, "truncated"],
    [{ match: "same", size: 101, pos: 100 }, "unread"],
    [{ match: "grown", size: 2000, pos: 100 }, "unread"],
    [{ match: "same", size: 100, pos: 100 }, "read"],
    [{ match: "grown", size: 100, pos: 100 }, "read"],
    [{ match: "same", size: 0, pos: 0 }, "read"],
  ];
  for (const [look, verdict] of rows) assert.equal(judgeFile(look), verdict, JSON.stringify(look));
});

test("the path against the file read to its end: same file, look for a newer one, keep ours, or switch", () => {
  const ours = { dev: "1", ino: "10" };
  const base: PathLook = { atPath: undefined, ours, quietMs: 0, draining: false };
  const other = (size: bigint): PathLook["atPath"] => ({ dev: "1", ino: "11", size });
  const rows: [string, Partial<PathLook>, PathPlan["kind"]][] = [
    ["the path names our file", { atPath: { dev: "1", ino: "10", size: 5n } }, "same-file"],
    ["the path names our file, even while draining", { atPath: { dev: "1", ino: "10", size: 0n }, draining: true }, "same-file"],
    ["same inode on another device is another file", { atPath: { dev: "2", ino: "10", size: 5n } }, "switch"],
    ["nothing at the path, not looked for newer", {}, "look-for-newer"],
    ["nothing at the path, nothing newer: a writer may still append to ours", { newerRotated: false }, "keep-ours"],
    ["nothing at the path, nothing newer, draining", { newerRotated: false, draining: true }, "keep-ours"],
    ["nothing at the path, a newer generation was rotated away already", { newerRotated: true }, "switch"],
    ["a new file with data", { atPath: other(1n) }, "switch"],
    ["a new empty file, ours written to just now", { atPath: other(0n), quietMs: ROTATION_GRACE_MS - 1 }, "keep-ours"],
    ["a new empty file, ours quiet for the grace", { atPath: other(0n), quietMs: ROTATION_GRACE_MS }, "switch"],
    ["a new empty file, draining", { atPath: other(0n), draining: true }, "switch"],
  ];
  for (const [what, over, kind] of rows) assert.equal(planPath({ ...base, ...over }).kind, kind, what);
});

test("generations after a finished file: its own clock tick counts, except for the file resumed into (its tick may hold files read before the restart)", () => {
  const ours = { ino: 10n, birthtimeNs: 5_000n };
  assert.deepEqual(generationsAfter(ours, undefined), { afterBirthNs: 5_000n, inclusive: true });
  assert.deepEqual(generationsAfter(ours, 11n), { afterBirthNs: 5_000n, inclusive: true });
  assert.deepEqual(generationsAfter(ours, 10n), { afterBirthNs: 5_000n, inclusive: false });
  assert.equal(waitingSince(ours, undefined), 5_000n);
  assert.equal(waitingSince(ours, 10n), 5_001n);
});

// A follower's decisions (sidecar/follower-plans.ts), as tables: what it saw, what it does.
import { test } from "node:test";
import assert from "node:assert/strict";
import { generationsAfter, judgeFile, planIdle, planPath, ROTATION_GRACE_MS, startOffset, waitingSince, type FileLook, type IdleLook, type IdlePlan, type PathLook, type PathPlan } from "../../sidecar/follower-plans.ts";

test("read to its end: an unfinished line past its flush delay first, then held multiline lines, then a look at the path when one is due", () => {
  const base: IdleLook = { now: 10_000, draining: false, pathHint: false, partialSince: undefined, heldSince: undefined, rotatedAway: false, lastPathCheck: 9_900, partialFlushMs: 500, multilineTimeoutMs: 1000, pollIntervalMs: 250 };
  const rows: [string, Partial<IdleLook>, IdlePlan][] = [
    ["nothing due", {}, "idle"],
    ["the poll interval passed", { lastPathCheck: 9_750 }, "check-path"],
    ["a watch hint", { pathHint: true }, "check-path"],
    ["our file rotated away: every step", { rotatedAway: true }, "check-path"],
    ["draining: everything is due", { draining: true }, "check-path"],
    ["an unfinished line, not yet due", { partialSince: 9_600 }, "idle"],
    ["an unfinished line, due", { partialSince: 9_500 }, "flush-partial"],
    ["an unfinished line, draining", { partialSince: 9_999, draining: true }, "flush-partial"],
    ["held lines, not yet due", { heldSince: 9_100 }, "idle"],
    ["held lines, due", { heldSince: 9_000 }, "flush-held"],
    ["held lines, draining", { heldSince: 9_999, draining: true }, "flush-held"],
    ["both due: the line first", { partialSince: 9_000, heldSince: 8_000 }, "flush-partial"],
    ["held lines due before a path look", { heldSince: 9_000, pathHint: true }, "flush-held"],
  ];
  for (const [what, over, plan] of rows) assert.equal(planIdle({ ...base, ...over }), plan, what);
});

test("a new file is read from its start, but for --from end at the very first attempt without a checkpoint", () => {
  const rows: [Parameters<typeof startOffset>[0], number][] = [
    [{ firstAttempt: true, hadCheckpoint: false, from: "end", size: 700 }, 700],
    [{ firstAttempt: true, hadCheckpoint: true, from: "end", size: 700 }, 0],
    [{ firstAttempt: false, hadCheckpoint: false, from: "end", size: 700 }, 0],
    [{ firstAttempt: true, hadCheckpoint: false, from: "start", size: 700 }, 0],
  ];
  for (const [o, offset] of rows) assert.equal(startOffset(o), offset, JSON.stringify(o));
});

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

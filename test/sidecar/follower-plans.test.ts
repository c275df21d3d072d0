// A follower's decisions (sidecar/follower-plans.ts), as tables: what it saw, what it does.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  checkpointBirthNs,
  checkpointedKey,
  generationsAfter,
  judgeFile,
  openError,
  planIdle,
  planNotTaken,
  planOpen,
  planPath,
  planResumed,
  planRotatedOn,
  planTake,
  planTaken,
  ROTATION_GRACE_MS,
  startOffset,
  waitingSince,
  type FileLook,
  type IdleLook,
  type IdlePlan,
  type OpenLook,
  type OpenPlan,
  type PathLook,
  type PathPlan,
  type ResumeFound,
  type ResumeSteps,
  type TakeLook,
  type TakePlan,
} from "../../sidecar/follower-plans.ts";
import { CHECKPOINT_VERSION, type Checkpoint } from "../../sidecar/checkpoint.ts";
import { VERIFIED_BEFORE_BYTES } from "../../sidecar/line-reader.ts";

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

// Opening: which file first, from where, or why to wait.

const cp = (over: Partial<Checkpoint> = {}): Checkpoint => ({
  version: CHECKPOINT_VERSION,
  path: "/logs/app.log",
  identity: { dev: "1", ino: "10", fingerprint: "ab", fingerprintLength: 2 },
  offset: 700,
  tail: { length: 64, sha256: "00" },
  savedAt: "2026-01-01T00:00:00.000Z",
  birthtimeNs: "5000",
  ...over,
});

test("the checkpointed file is reserved by its device, inode and birth time, only when the checkpoint records all three as numbers", () => {
  const rows: [string, Checkpoint | undefined, string | undefined][] = [
    ["no checkpoint", undefined, undefined],
    ["all three recorded", cp(), "1:10:5000"],
    ["a birth time of 0 (none kept) names the file as fstat does", cp({ birthtimeNs: "0" }), "1:10:0"],
    ["no birth time recorded", cp({ birthtimeNs: undefined }), undefined],
    ["an empty birth time", cp({ birthtimeNs: "" }), undefined],
    ["a birth time that is no number", cp({ birthtimeNs: "5e3" }), undefined],
    ["an inode that is no number", cp({ identity: { dev: "1", ino: "x", fingerprint: "", fingerprintLength: 0 } }), undefined],
    ["a device that is no number", cp({ identity: { dev: "-1", ino: "10", fingerprint: "", fingerprintLength: 0 } }), undefined],
  ];
  for (const [what, c, key] of rows) assert.equal(checkpointedKey(c), key, what);
  assert.equal(checkpointBirthNs(cp()), 5000n);
  assert.equal(checkpointBirthNs(cp({ birthtimeNs: "abc" })), undefined);
});

test("an open of the path that throws: nothing there is 'missing', else its errno code, else the error itself", () => {
  const rows: [string, unknown, string][] = [
    ["ENOENT", Object.assign(new Error("no"), { code: "ENOENT" }), "missing"],
    ["EACCES", Object.assign(new Error("no"), { code: "EACCES" }), "EACCES"],
    ["ELOOP", Object.assign(new Error("no"), { code: "ELOOP" }), "ELOOP"],
    ["no code", new Error("odd"), "Error: odd"],
  ];
  for (const [what, e, reason] of rows) assert.equal(openError(e), reason, what);
});

test("a resume plan carried out: what it logs, whether it counts a truncation, whether the file is marked rotated away, where a fresh start's wait begins", () => {
  const savedNs = BigInt(Date.parse("2026-01-01T00:00:00.000Z") - 50) * 1_000_000n;
  const rows: [string, ResumeFound, Checkpoint, ResumeSteps][] = [
    [
      "the file at the path goes on at the offset",
      { kind: "continue", offset: 700 },
      cp(),
      { log: { level: "info", msg: "resuming from checkpoint", fields: { offset: 700 } }, refilled: false, rotatedAway: false, sinceNs: undefined },
    ],
    [
      "mid-line with output owed: both logged",
      { kind: "continue", offset: 700 },
      cp({ midLine: true, pending: "aGVsbG8=" }),
      { log: { level: "info", msg: "resuming from checkpoint", fields: { offset: 700, midLine: true, owedBytes: 5 } }, refilled: false, rotatedAway: false, sinceNs: undefined },
    ],
    [
      "rotated while stopped: finished under its new name, marked rotated away",
      { kind: "rotated", offset: 700, rotatedPath: "/logs/app.log.1", refilled: false },
      cp(),
      { log: { level: "info", msg: "finishing a file rotated while stopped, then following the path", fields: { offset: 700, rotatedTo: "/logs/app.log.1" } }, refilled: false, rotatedAway: true, sinceNs: undefined },
    ],
    [
      "truncated, refilled and rotated while stopped: a warning, a truncation counted, identity taken anew",
      { kind: "rotated", offset: 0, rotatedPath: "/logs/app.log.1", refilled: true },
      cp(),
      {
        log: { level: "warn", msg: "file truncated, refilled and rotated while stopped: reading the rotated file from the start, then following the path", fields: { offset: 0, rotatedTo: "/logs/app.log.1" } },
        refilled: true,
        rotatedAway: true,
        sinceNs: undefined,
      },
    ],
    [
      "fresh: siblings born after the checkpointed file may be generations not read",
      { kind: "fresh", reason: "identity (device, inode, first bytes) differs" },
      cp(),
      { log: { level: "warn", msg: "checkpoint does not match the file: reading it from the start", fields: { reason: "identity (device, inode, first bytes) differs" } }, refilled: false, rotatedAway: false, sinceNs: 5001n },
    ],
    [
      "fresh without a birth time: siblings born since the last save",
      { kind: "fresh", reason: "gone" },
      cp({ birthtimeNs: undefined }),
      { log: { level: "warn", msg: "checkpoint does not match the file: reading it from the start", fields: { reason: "gone" } }, refilled: false, rotatedAway: false, sinceNs: savedNs },
    ],
    [
      "fresh with a birth time of 0 (none kept): since the last save",
      { kind: "fresh", reason: "gone" },
      cp({ birthtimeNs: "0" }),
      { log: { level: "warn", msg: "checkpoint does not match the file: reading it from the start", fields: { reason: "gone" } }, refilled: false, rotatedAway: false, sinceNs: savedNs },
    ],
  ];
  for (const [what, found, c, steps] of rows) assert.deepEqual(planResumed(found, c), steps, what);
});

test("taking a file: none that is no regular file; from the offset asked, or on from where another path's follower read it to its end when its first bytes are the same", () => {
  const finished = { identity: { dev: "1", ino: "10", fingerprint: "ab", fingerprintLength: 2 }, offset: 900, path: "/logs/other.log" };
  const base: TakeLook = { offset: 0, isFile: true, birthtimeNs: 5_000n, size: 1_000n, finished: undefined, checkedBefore: false };
  const fromOffset = (offset: number, before: Extract<TakePlan, { kind: "claim" }>["before"]): TakePlan => ({ kind: "claim", start: offset, before, handedOn: undefined });
  const handOn: TakePlan = {
    kind: "claim",
    start: 900,
    before: { at: 900 - VERIFIED_BEFORE_BYTES, length: VERIFIED_BEFORE_BYTES },
    handedOn: { level: "info", msg: "file already read up to here: going on from there", fields: { offset: 900, readAs: "/logs/other.log" } },
  };
  const rows: [string, Partial<TakeLook>, TakePlan][] = [
    ["no regular file any more", { isFile: false }, { kind: "refuse" }],
    ["no regular file, even with a hand-on due", { isFile: false, finished }, { kind: "refuse" }],
    ["from 0: no bytes before to check", {}, fromOffset(0, { at: 0, length: 0 })],
    ["from 10: the 10 bytes before", { offset: 10 }, fromOffset(10, { at: 0, length: 10 })],
    ["from 700: the last VERIFIED_BEFORE_BYTES before", { offset: 700 }, fromOffset(700, { at: 700 - VERIFIED_BEFORE_BYTES, length: VERIFIED_BEFORE_BYTES })],
    ["the caller checked the bytes before (a resume)", { offset: 700, checkedBefore: true }, fromOffset(700, "given")],
    ["read further under another path: compare first bytes first", { finished }, { kind: "compare-head", identity: finished.identity }],
    ["read further under another path, same first bytes: on from there", { finished, sameHead: true }, handOn],
    ["same first bytes, the caller's bytes are for another offset: read them", { finished, sameHead: true, offset: 100, checkedBefore: true }, handOn],
    ["read further under another path, other first bytes (a new file on a reused inode): from the offset", { finished, sameHead: false }, fromOffset(0, { at: 0, length: 0 })],
    ["other first bytes, the caller checked the bytes before", { finished, sameHead: false, offset: 100, checkedBefore: true }, fromOffset(100, "given")],
    ["no birth time: a reused inode could pass for it, from the offset", { finished, birthtimeNs: 0n }, fromOffset(0, { at: 0, length: 0 })],
    ["read under another path only up to the offset asked", { finished, offset: 900 }, fromOffset(900, { at: 900 - VERIFIED_BEFORE_BYTES, length: VERIFIED_BEFORE_BYTES })],
    ["read under another path further than the file is long now", { finished, size: 899n }, fromOffset(0, { at: 0, length: 0 })],
    ["exactly as long as read under another path", { finished, size: 900n }, { kind: "compare-head", identity: finished.identity }],
  ];
  for (const [what, over, plan] of rows) assert.deepEqual(planTake({ ...base, ...over }), plan, what);
});

test("a look at the path: a generation rotated away before we looked first, then the file at the path unless another path's follower reads it, else wait saying why", () => {
  const base: OpenLook = { atPath: "opened", sinceNs: undefined, announce: false };
  const missing: OpenLook["atPath"] = { refused: "missing" };
  const readSkipped: OpenPlan = { kind: "read", log: { level: "warn", msg: "a file was at the path and rotated away before we looked: reading it first", fields: { rotated: "/logs/app.log.1" } } };
  const rows: [string, Partial<OpenLook>, OpenPlan][] = [
    ["nothing at the path, no wait start: wait, missing", { atPath: missing }, { kind: "wait", reason: "missing", fields: {} }],
    ["a directory at the path: wait, saying so", { atPath: { refused: "directory" } }, { kind: "wait", reason: "directory", fields: {} }],
    ["nothing at the path, waiting since a time: look for a skipped generation", { atPath: missing, sinceNs: 7n }, { kind: "look-for-skipped", afterBirthNs: 7n }],
    ["nothing at the path, none skipped: wait", { atPath: missing, sinceNs: 7n, skipped: null }, { kind: "wait", reason: "missing", fields: {} }],
    ["nothing at the path, a skipped generation taken: read it", { atPath: missing, sinceNs: 7n, skipped: "/logs/app.log.1" }, readSkipped],
    ["a file at the path, waiting since a time: look for a skipped generation first", { sinceNs: 7n }, { kind: "look-for-skipped", afterBirthNs: 7n }],
    ["a file at the path, a skipped generation taken: read that first", { sinceNs: 7n, skipped: "/logs/app.log.1" }, readSkipped],
    ["a file at the path, no wait start: ask who reads it", {}, { kind: "ask-owner" }],
    ["a file at the path, none skipped: ask who reads it", { sinceNs: 7n, skipped: null }, { kind: "ask-owner" }],
    ["read under another path: wait, saying where", { ownedBy: "/logs/other.log" }, { kind: "wait", reason: "followed-elsewhere", fields: { followedAs: "/logs/other.log" } }],
    ["nobody else reads it: take it", { ownedBy: null }, { kind: "take" }],
    ["taken, after a wait or as the first file: say so", { ownedBy: null, announce: true, taken: { adopted: true, offset: 42 } }, { kind: "read", log: { level: "info", msg: "following file", fields: { offset: 42 } } }],
    ["taken, announced before and no wait: quietly", { ownedBy: null, taken: { adopted: true, offset: 42 } }, { kind: "read", log: undefined }],
    ["claimed first by another path's follower: wait, saying where", { ownedBy: null, taken: { adopted: false, followedAs: "/logs/other.log" } }, { kind: "wait", reason: "followed-elsewhere", fields: { followedAs: "/logs/other.log" } }],
    ["no regular file by the take: wait without a reason (the next look tells)", { ownedBy: null, taken: { adopted: false } }, { kind: "wait", reason: undefined, fields: {} }],
  ];
  for (const [what, over, plan] of rows) assert.deepEqual(planOpen({ ...base, ...over }), plan, what);
});

test("a take refused after a resume: a wait saying where the file is read, or none when it is no regular file", () => {
  assert.deepEqual(planNotTaken("/logs/other.log"), { kind: "wait", reason: "followed-elsewhere", fields: { followedAs: "/logs/other.log" } });
  assert.deepEqual(planNotTaken(undefined), { kind: "wait", reason: undefined, fields: {} });
  assert.deepEqual(planTaken({ adopted: true, offset: 3 }, false), { kind: "read", log: undefined });
});

test("after a rotation: a generation never seen at the path is read first, else the path, waiting from where generations after ours begin", () => {
  const ours = { ino: 10n, birthtimeNs: 5_000n };
  const rows: [string, string | undefined, bigint | undefined, ReturnType<typeof planRotatedOn>][] = [
    ["a skipped generation taken", "/logs/app.log.2", undefined, { kind: "read", log: { level: "warn", msg: "a rotated file was never seen at the path (rotated twice between looks): reading it first", fields: { skipped: "/logs/app.log.2" } } }],
    ["none: the path, siblings born from ours' tick on", undefined, undefined, { kind: "open-path", sinceNs: 5_000n }],
    ["none, ours resumed into: after ours' tick", undefined, 10n, { kind: "open-path", sinceNs: 5_001n }],
  ];
  for (const [what, skipped, resumedIno, plan] of rows) assert.deepEqual(planRotatedOn(skipped, ours, resumedIno), plan, what);
});

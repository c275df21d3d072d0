// A follower's step once its file is read to its end (sidecar/step-plan.ts), as tables.
import { test } from "node:test";
import assert from "node:assert/strict";
import { planIdle, startOffset, type IdleLook, type IdlePlan } from "../../sidecar/step-plan.ts";

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

// The plan for a forwarded batch's times (sidecar/line-times.ts): which anchor stamps it, and when
// a new anchor or a longer lease must be saved before the batch is sent.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ceilingOf, msAt, msTimes, nextMsAt, planStamp, timeAt, type StampLook, type StampPlan, type TimeAnchor } from "../../sidecar/line-times.ts";
import { NanoClock, splitLines, splitRecords } from "../../sidecar/sinks/records.ts";

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;
const A: TimeAnchor = { fileKey: "k", from: 1000, ns: T0, until: 5000 };

/** A look at a batch [1000, 2000) of file "k", read 0.1 s after the anchor's time, nothing sent yet. */
const base: StampLook = { anchor: A, mayHaveSent: 1000, floorNs: 0n, fileKey: "k", start: 1000, end: 2000, nowNs: T0 + S / 10n, maxLagNs: S, leaseBytes: 4000 };

const cases: { name: string; look: Partial<StampLook>; want: StampPlan }[] = [
  { name: "no anchor yet: a new one at the batch's start, at the clock, leased past the batch", look: { anchor: undefined }, want: { kind: "anchor", anchor: { fileKey: "k", from: 1000, ns: T0 + S / 10n, until: 6000 }, why: "new-file" } },
  { name: "another file: a new anchor, never below the floor (times of a path only increase)", look: { fileKey: "k2", start: 0, end: 500, floorNs: T0 + 5n * S }, want: { kind: "anchor", anchor: { fileKey: "k2", from: 0, ns: T0 + 5n * S, until: 4500 }, why: "new-file" } },
  { name: "the same file read again from before the anchor (truncated, same first bytes): a new anchor", look: { start: 0, end: 500 }, want: { kind: "anchor", anchor: { fileKey: "k", from: 0, ns: T0 + S / 10n, until: 4500 }, why: "new-file" } },
  { name: "within the lease and the lag: stamped, nothing to save", look: {}, want: { kind: "stamp", anchor: A } },
  { name: "past the lease: the same times with a longer lease", look: { start: 4000, end: 5500, mayHaveSent: 4000 }, want: { kind: "extend", anchor: { ...A, until: 9500 } } },
  { name: "lagging more than maxLag behind the clock, nothing sent from here: a new anchor at the clock", look: { start: 3000, end: 4000, mayHaveSent: 3000, nowNs: T0 + 2n * S }, want: { kind: "anchor", anchor: { fileKey: "k", from: 3000, ns: T0 + 2n * S, until: 8000 }, why: "lagging" } },
  { name: "lagging, but the run before may have sent these lines (a replay): their times are kept", look: { start: 3000, end: 4000, mayHaveSent: 5000, nowNs: T0 + 60n * S }, want: { kind: "stamp", anchor: A } },
  { name: "a replay that runs past the lease: the same times, a longer lease, not a new anchor", look: { start: 3000, end: 7000, mayHaveSent: 5000, nowNs: T0 + 60n * S }, want: { kind: "extend", anchor: { ...A, until: 11000 } } },
  { name: "lag exactly maxLag: still stamped", look: { start: 2000, end: 3000, mayHaveSent: 2000, nowNs: T0 + 1000n + S }, want: { kind: "stamp", anchor: A } },
];

for (const c of cases) {
  test(`planStamp: ${c.name}`, () => {
    assert.deepEqual(planStamp({ ...base, ...c.look }), c.want);
  });
}

test("a clock that went back: the anchor is kept, so times keep increasing", () => {
  assert.deepEqual(planStamp({ ...base, start: 3000, end: 4000, mayHaveSent: 3000, nowNs: T0 - 10n * S }), { kind: "stamp", anchor: A });
});

test("timeAt: one nanosecond a byte from the anchor; ceilingOf: the time at the lease's end", () => {
  assert.equal(timeAt(A, 1000), T0);
  assert.equal(timeAt(A, 1234), T0 + 234n);
  assert.equal(ceilingOf(A), T0 + 4000n);
});

test("splitLines with times: each line's time follows from its offset, the same whatever the batch's start", () => {
  const clock = new NanoClock(() => 5n);
  const times = { from: 100, ns: T0 };
  const whole = splitLines(Buffer.from("ab\ncde\nf\n"), 100, clock, times);
  assert.deepEqual(whole.map((l) => [l.text, l.offset, l.timeNs]), [["ab", 100, T0], ["cde", 103, T0 + 3n], ["f", 107, T0 + 7n]]);
  // Read again from the second line (a replay from a checkpoint there): the same times.
  const again = splitLines(Buffer.from("cde\nf\n"), 103, clock, times);
  assert.deepEqual(again.map((l) => l.timeNs), [T0 + 3n, T0 + 7n]);
  // No offset (a transform's records): the clock, as before.
  assert.deepEqual(splitLines(Buffer.from("x\n"), undefined, clock, times).map((l) => l.timeNs), [5n]);
});

test("msAt: the millisecond of timeAt, in plain numbers; nextMsAt: where the next millisecond starts", () => {
  const anchors = [A, { from: 0, ns: T0 + 999_999n }, { from: 7, ns: T0 + 123_456_789n }, { from: 3, ns: 0n }];
  for (const a of anchors) {
    const t = msTimes(a);
    for (const d of [0, 1, 2, 999_999, 1_000_000, 1_000_001, 3_500_000, 2 ** 40]) {
      const o = a.from + d;
      assert.equal(msAt(t, o), Number(timeAt(a, o) / 1_000_000n), `${a.ns}+${d}`);
      const n = nextMsAt(t, o);
      assert.ok(n > o && n - o <= 1_000_000);
      assert.equal(msAt(t, n), msAt(t, o) + 1);
      assert.equal(msAt(t, n - 1), msAt(t, o));
    }
  }
});

test("splitRecords: each record gets its offset, its time by offset from the anchor, and the clock without one", () => {
  const clock = new NanoClock(() => 5n);
  const data = Buffer.from('{"log":"a"}\n{"log":"b\\nc"}\n{"log":"d"}\n');
  const got = splitRecords(data, [100, 102, 110], clock, { from: 100, ns: T0 });
  assert.deepEqual(got.map((l) => [l.text, l.offset, l.timeNs]), [
    ['{"log":"a"}', 100, T0],
    ['{"log":"b\\nc"}', 102, T0 + 2n],
    ['{"log":"d"}', 110, T0 + 10n],
  ]);
  assert.deepEqual(splitRecords(data, [100, 102, 110], clock).map((l) => l.timeNs), [5n, 6n, 7n]);
});

// Timed transforms (forwarding --format json): every record says the file offset of its first
// input byte and takes its time from it under the anchor (line-times.ts), so the same bytes give
// the same records however they are chunked, and a restart at any offset the transform called safe
// gives the records the first run gave from there.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createTransform, type Transform, type TransformOutput } from "../../sidecar/transform.ts";
import { createTimedTransform } from "../../sidecar/transform-timed.ts";
import { LINE_CONTINUES_MARKER, frameLines } from "../../sidecar/framing.ts";
import { jsonConfig } from "./harness.ts";

const S = 1_000_000_000n;
const T0 = 1_700_000_000n * S;
/** An anchor 10 bytes before a millisecond ends: the records at offsets 10 and on fall in the next one. */
const ANCHOR = { from: 0, ns: T0 + 999_990n };
const POD = { podName: "app-1", podNamespace: "shop", nodeName: "node-a", containerName: "c" };

interface Rec {
  readonly offset: number;
  readonly time: string;
  readonly log: string;
  readonly split?: true;
}

function timed(multiline?: string, maxLineBytes = 1024 * 1024): Transform {
  return createTimedTransform(jsonConfig({ maxLineBytes, pod: POD, ...(multiline === undefined ? {} : { multiline }) }), "/var/log/app.log");
}

function records(r: TransformOutput): Rec[] {
  const lines = r.out.toString("utf8").split("\n").slice(0, -1);
  assert.equal(r.offsets?.length, lines.length, "one offset a record");
  return lines.map((l, i) => {
    const j = JSON.parse(l) as { time: string; log: string; split?: true; pod: string };
    assert.equal(j.pod, "app-1");
    return { offset: r.offsets![i]!, time: j.time, log: j.log, ...(j.split ? { split: j.split } : {}) };
  });
}

/** Pushes `text` from offset `from` in chunks cut after the given line counts, flushing at the end; every output's safe offset (and what continues there) too. */
function run(t: Transform, text: string, from = 0, cuts: readonly number[] = []): { recs: Rec[]; safe: { offset: number; continues?: string }[] } {
  const lines = text.split(/(?<=\n)/);
  const recs: Rec[] = [];
  const safe: { offset: number; continues?: string }[] = [];
  let at = from;
  let i = 0;
  for (const n of [...cuts, lines.length]) {
    const chunk = Buffer.from(lines.slice(i, Math.max(i, Math.min(n, lines.length))).join(""));
    i = Math.max(i, Math.min(n, lines.length));
    if (chunk.length === 0) continue;
    t.timeBy!(ANCHOR);
    const r = t.push(chunk, at + chunk.length, at);
    at += chunk.length;
    recs.push(...records(r));
    safe.push({ offset: r.safeOffset, ...(r.continues === undefined ? {} : { continues: r.continues }) });
  }
  t.timeBy!(ANCHOR);
  const f = t.flush();
  recs.push(...records(f));
  safe.push({ offset: f.safeOffset });
  return { recs, safe };
}

const iso = (ms: bigint): string => new Date(Number(ms)).toISOString();
const MS0 = iso(T0 / 1_000_000n);
const MS1 = iso(T0 / 1_000_000n + 1n);

test("json, timed: a record a line, each at its line's offset, its time the millisecond of the anchor's time there (across a millisecond's end)", () => {
  const { recs } = run(timed(), "one\ntwo\nthree\n");
  assert.deepEqual(recs, [
    { offset: 0, time: MS0, log: "one" },
    { offset: 4, time: MS0, log: "two" },
    { offset: 8, time: MS0, log: "three" },
  ]);
  const later = run(timed(), "abcdefghi\nb\nc\n").recs;
  assert.deepEqual(later.map((r) => [r.offset, r.time]), [[0, MS0], [10, MS1], [12, MS1]]);
});

test("json, timed: the record bytes are the untimed transform's but for the time", () => {
  const text = 'a "quoted" line\n\tx\\y\nlast\n';
  const plain = createTransform(jsonConfig({ pod: POD }), "/var/log/app.log").push(Buffer.from(text), text.length).out.toString("utf8");
  const t = timed();
  t.timeBy!(ANCHOR);
  const got = t.push(Buffer.from(text), text.length, 0).out.toString("utf8");
  const noTime = (s: string): string => s.replace(/"time":"[^"]*"/g, '"time":""');
  assert.equal(noTime(got), noTime(plain));
});

test("json, timed: pieces of a split line are at their own first byte in the file (the marker is not the file's)", () => {
  const framed = frameLines(Buffer.from("ab\nabcdefgh\nxy\n"), 3).out;
  const t = timed(undefined, 3);
  t.timeBy!(ANCHOR);
  const recs = records(t.push(framed, 15, 0));
  assert.deepEqual(recs.map((r) => [r.offset, r.log]), [
    [0, "ab"],
    [3, `abc${LINE_CONTINUES_MARKER}`],
    [6, `def${LINE_CONTINUES_MARKER}`],
    [9, "gh"],
    [12, "xy"],
  ]);
});

const JAVA = "12:00 start\njava.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)\n12:01 next\nError: again\n\tat x.Y.z(Y.java:3)\n";
const PYTHON = "one\nTraceback (most recent call last):\n  File \"a.py\", line 1\nValueError: x\n\nnext line\nTraceback (most recent call last):\n  File \"b.py\", line 2\nKeyError: k\n\nDuring handling of the above exception, another exception occurred:\n\nTraceback (most recent call last):\n  File \"c.py\", line 3\nTypeError: t\nend\n";

test("multiline, timed: a group is at its first line's offset and takes that line's time; a \"maybe\" line that joined nothing is a record at its own offset", () => {
  assert.deepEqual(run(timed("java"), JAVA).recs.map((r) => [r.offset, r.log]), [
    [0, "12:00 start"],
    [12, "java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n\tat a.B.d(B.java:2)"],
    [JAVA.indexOf("12:01"), "12:01 next"],
    [JAVA.indexOf("Error: again"), "Error: again\n\tat x.Y.z(Y.java:3)"],
  ]);
  const py = run(timed("python"), PYTHON).recs;
  const blank = PYTHON.indexOf("\n\nnext") + 1;
  assert.deepEqual(py.map((r) => r.offset), [0, 4, blank, blank + 1, PYTHON.indexOf("Traceback", blank), PYTHON.indexOf("end\n")]);
  assert.equal(py[2]!.log, "");
  assert.equal(py[1]!.time, MS0);
  assert.equal(py[2]!.time, MS1, "the blank line's own offset, past the millisecond's end");
});

test("multiline, timed: a record cut at the size cap goes on at the offset of the line that did not fit", () => {
  const text = "Error: x\n\tat a1\n\tat a2\n\tat a3\nnext\n";
  const recs = run(timed("java", 20), text).recs;
  assert.deepEqual(recs.map((r) => [r.offset, r.log, r.split ?? false]), [
    [0, "Error: x\n\tat a1", true],
    [16, "\tat a2\n\tat a3", false],
    [30, "next", false],
  ]);
});

test("multiline, untimed: no offsets, the read time (stdout as before)", () => {
  const t = createTransform(jsonConfig({ multiline: "java" }), "f");
  const r = t.push(Buffer.from("a\nb\n"), 4);
  assert.equal(r.offsets, undefined);
  const time = (JSON.parse(r.out.toString("utf8").split("\n")[0]!) as { time: string }).time;
  assert.ok(Math.abs(Date.parse(time) - Date.now()) < 60_000);
});

// The replay property: a restart reads from a safe offset of the first run, in other chunks; the
// records it gives from there are the first run's records from there, offsets and times included.
// Weighted towards the lines that join a record, so records are long and get cut at the cap.
const lineArb = fc.oneof(
  { arbitrary: fc.constantFrom("\tat a.B.c(B.java:1)", "Caused by: x.Y: z", "\t... 3 more", "  File \"a.py\", line 1", "ValueError: v", "", "1 numbered"), weight: 6 },
  { arbitrary: fc.constantFrom("java.lang.IllegalStateException: boom", "Traceback (most recent call last):", "During handling of the above exception, another exception occurred:", "plain"), weight: 2 },
  { arbitrary: fc.string({ maxLength: 12 }).map((s) => s.replace(/\n/g, " ")), weight: 1 },
);

// With a cap of 70 bytes (no line here is longer), records are cut at the size cap often: a restart
// where a part goes on is told the grouper's state there (continueAt), as a checkpoint tells it.
for (const [multiline, cap] of [[undefined, 1024], ["java", 1024], ["python", 1024], ["^\\d", 1024], ["java", 70], ["python", 70], ["^\\d", 70]] as const) {
  test(`property (${multiline ?? "one record a line"}, records cut at ${cap} bytes): a restart at any safe offset, chunked differently, gives the first run's records from there`, () => {
    fc.assert(
      fc.property(fc.array(lineArb, { minLength: 1, maxLength: 40 }), fc.array(fc.nat(40), { maxLength: 6 }), fc.array(fc.nat(40), { maxLength: 6 }), fc.nat(), (lines, cuts1, cuts2, pick) => {
        const text = lines.map((l) => `${l}\n`).join("");
        const first = run(timed(multiline, cap), text, 0, [...cuts1].sort((a, b) => a - b));
        const { offset: at, continues } = first.safe[pick % first.safe.length]!;
        const rest = Buffer.from(text).subarray(at).toString("utf8");
        const t = timed(multiline, cap);
        if (continues !== undefined) t.continueAt!(at, continues);
        const again = run(t, rest, at, [...cuts2].sort((a, b) => a - b)).recs;
        assert.deepEqual(again, first.recs.filter((r) => r.offset >= at));
      }),
      { numRuns: 300 },
    );
  });
}

test("multiline, timed: a restart told where the run before flushed on the timeout (cutAt) gives that run's records; without it the group takes in the lines written after the flush", () => {
  const group = "java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)\n";
  const later = "\tat a.B.d(B.java:2)\nnext\n";
  const h = 5; // after "zero\n"
  const first = timed("java");
  const recs: Rec[] = [];
  first.timeBy!(ANCHOR);
  recs.push(...records(first.push(Buffer.from(`zero\n${group}`), h + group.length, 0)));
  first.timeBy!(ANCHOR);
  recs.push(...records(first.flush())); // --multiline-timeout: nothing came for that long
  first.timeBy!(ANCHOR);
  recs.push(...records(first.push(Buffer.from(later), h + group.length + later.length, h + group.length)));
  assert.deepEqual(recs.map((r) => r.log), ["zero", group.slice(0, -1), "\tat a.B.d(B.java:2)", "next"]);

  const again = timed("java");
  again.cutAt!(h + group.length);
  const replay = run(again, group + later, h).recs;
  assert.deepEqual(replay, recs.slice(1));
  const uncut = run(timed("java"), group + later, h).recs;
  assert.notDeepEqual(uncut, recs.slice(1));
  assert.equal(uncut[0]!.log, `${group}\tat a.B.d(B.java:2)`);
});

test("json, timed: a push across several milliseconds of the anchor's times gives every record its own (the records past each millisecond's end retimed)", () => {
  const line = `${"x".repeat(98)}\n`; // 99 bytes: records fall on both sides of each boundary
  const text = line.repeat(30_000); // 2.97 MB: three boundaries
  const t = timed();
  t.timeBy!(ANCHOR);
  const recs = records(t.push(Buffer.from(text), text.length, 0));
  assert.equal(recs.length, 30_000);
  const times = new Set<string>();
  for (const r of recs) {
    assert.equal(r.time, iso((ANCHOR.ns + BigInt(r.offset)) / 1_000_000n), `record at ${r.offset}`);
    times.add(r.time);
  }
  assert.equal(times.size, 4);
});

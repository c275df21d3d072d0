import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createTransform, type Transform } from "../../sidecar/transform.ts";
import { createGrouper } from "../../sidecar/multiline.ts";
import { jsonConfig } from "./harness.ts";

function transform(multiline: string, maxLineBytes = 1024 * 1024): Transform {
  const config = jsonConfig({ maxLineBytes, multiline });
  return createTransform(config, "f");
}

function logs(out: Buffer): string[] {
  return out.toString("utf8").split("\n").slice(0, -1).map((l) => (JSON.parse(l) as { log: string }).log);
}

/** Pushes each text in turn (offsets counted from 0), then flushes; returns every record's log. */
function run(t: Transform, ...chunks: string[]): string[] {
  const out: string[] = [];
  let offset = 0;
  for (const c of chunks) {
    offset += Buffer.byteLength(c);
    out.push(...logs(t.push(Buffer.from(c), offset).out));
  }
  out.push(...logs(t.flush().out));
  return out;
}

const JAVA = [
  'Exception in thread "main" java.lang.IllegalStateException: boom',
  "\tat com.example.App.run(App.java:12)",
  "\tat com.example.App.main(App.java:5)",
  "Caused by: java.io.IOException: disk full",
  "\tat java.base/java.io.FileOutputStream.write(FileOutputStream.java:1)",
  "\t... 2 more",
];

test("java: a stack trace with its Caused by and ... N more becomes one record joined by \\n", () => {
  const got = run(transform("java"), ["12:00 INFO starting", ...JAVA, "12:01 INFO next"].join("\n") + "\n");
  assert.deepEqual(got, ["12:00 INFO starting", JAVA.join("\n"), "12:01 INFO next"]);
});

test("java: traces of exceptions whose class name does not end in Exception or Error are grouped too", () => {
  const a = ['Exception in thread "main" com.acme.Boom: y', "\tat a.b(C.java:1)"];
  const b = ["com.acme.Kaput", "\tat a.b(C.java:2)"];
  assert.deepEqual(run(transform("java"), [...a, ...b, "done"].join("\n") + "\n"), [a.join("\n"), b.join("\n"), "done"]);
});

test("java: lines that cannot start a trace are written at once, nothing held", () => {
  const t = transform("java");
  const r = t.push(Buffer.from("a\nb\n"), 4);
  assert.deepEqual(logs(r.out), ["a", "b"]);
  assert.equal(t.pending, false);
  assert.equal(r.safeOffset, 4);
});

test("java: an indented 'at' line with no trace open is a record of its own", () => {
  assert.deepEqual(run(transform("java"), "plain\n\tat x\n"), ["plain", "\tat x"]);
});

const PY = [
  "Traceback (most recent call last):",
  '  File "app.py", line 3, in <module>',
  "    main()",
  "KeyError: 'x'",
  "",
  "During handling of the above exception, another exception occurred:",
  "",
  "Traceback (most recent call last):",
  '  File "app.py", line 5, in <module>',
  "ValueError: bad",
];

test("python: chained tracebacks up to the final error line become one record", () => {
  assert.deepEqual(run(transform("python"), ["before", ...PY, "after"].join("\n") + "\n"), ["before", PY.join("\n"), "after"]);
});

test("python: a blank line after a traceback that no chain follows stays a record of its own", () => {
  const tb = PY.slice(0, 4);
  assert.deepEqual(run(transform("python"), [...tb, "", "next"].join("\n") + "\n"), [tb.join("\n"), "", "next"]);
});

test("regex: a matching line starts a record and every other line joins it", () => {
  const got = run(transform("^\\d{4}-"), "orphan\n2024-01-01 one\n  more\nstill\n2024-01-02 two\n");
  assert.deepEqual(got, ["orphan", "2024-01-01 one\n  more\nstill", "2024-01-02 two"]);
});

test("the open record is held, safeOffset stays at its first byte, and flush writes it", () => {
  const t = transform("java");
  const head = "INFO x\n";
  const first = t.push(Buffer.from(head + JAVA[0] + "\n"), 1000);
  const recordStart = 1000 - Buffer.byteLength(JAVA[0] + "\n");
  assert.deepEqual(logs(first.out), ["INFO x"]);
  assert.equal(first.safeOffset, recordStart);
  assert.equal(t.pending, true);
  const second = t.push(Buffer.from(JAVA[1] + "\n"), 1000 + Buffer.byteLength(JAVA[1] + "\n"));
  assert.equal(second.out.length, 0);
  assert.equal(second.safeOffset, recordStart, "still at the record's first byte");
  const flushed = t.flush();
  assert.deepEqual(logs(flushed.out), [JAVA.slice(0, 2).join("\n")]);
  assert.equal(flushed.safeOffset, 1000 + Buffer.byteLength(JAVA[1] + "\n"));
  assert.equal(t.pending, false);
});

test("a held record survives the caller reusing its buffer between pushes", () => {
  const t = transform("java");
  const buf = Buffer.from(JAVA[0] + "\n");
  t.push(buf, buf.length);
  buf.fill(0x20);
  const rest = Buffer.from(JAVA[1] + "\n");
  t.push(rest, buf.length + rest.length);
  assert.deepEqual(logs(t.flush().out), [JAVA.slice(0, 2).join("\n")]);
});

test("after a flush (timeout), a late continuation line is not glued to the written record", () => {
  const t = transform("java");
  assert.deepEqual(run(t, JAVA[0] + "\n"), [JAVA[0]]);
  assert.deepEqual(run(t, JAVA[1] + "\n"), [JAVA[1]]);
});

test("a record over maxLineBytes is cut, marked split, and continued in the next record", () => {
  const t = transform("^START", 40);
  const lines = ["START", ...Array.from({ length: 8 }, (_, i) => `continuation line ${i}`)];
  let offset = 0;
  const text = lines.join("\n") + "\n";
  offset += Buffer.byteLength(text);
  const out = Buffer.concat([t.push(Buffer.from(text), offset).out, t.flush().out]).toString("utf8");
  const recs = out.split("\n").slice(0, -1).map((l) => JSON.parse(l) as { log: string; split?: boolean });
  assert.ok(recs.length > 1, "cut into several records");
  for (const r of recs) assert.ok(Buffer.byteLength(r.log) <= 40, `record of ${Buffer.byteLength(r.log)} bytes`);
  assert.deepEqual(recs.map((r) => r.split === true), [...recs.slice(1).map(() => true), false]);
  assert.equal(recs.map((r) => r.log).join("\n"), lines.join("\n"), "nothing lost");
});

test("CRLF lines are matched without their carriage return and keep it in the record", () => {
  const got = run(transform("python"), "Traceback (most recent call last):\r\n  File x\r\nE: y\r\n");
  assert.deepEqual(got, ["Traceback (most recent call last):\r\n  File x\r\nE: y\r"]);
});

test("createGrouper names the bad pattern", () => {
  assert.throws(() => createGrouper("(unclosed"), /multiline: "\(unclosed" is not a regular expression/);
});

test("property: however lines are chunked, records keep every line once, in order, the same way, and safeOffset never passes a held record", () => {
  const vocabulary = [...JAVA, ...PY, "plain", "2024-01-01 x", "", "\tat y", "é\u0001\"q\""];
  const spec = fc.constantFrom("java", "python", "^\\d{4}-");
  const lines = fc.array(fc.constantFrom(...vocabulary), { minLength: 1, maxLength: 30 });
  fc.assert(
    fc.property(spec, lines, fc.array(fc.nat(), { maxLength: 10 }), (multiline, ls, cuts) => {
      const bytes = Buffer.from(ls.map((l) => l + "\n").join(""));
      const whole = run(transform(multiline), bytes.toString("utf8"));
      // Cut at line ends only, as the follower does.
      const ends = ls.map((_, i) => Buffer.byteLength(ls.slice(0, i + 1).map((l) => l + "\n").join("")));
      const at = [...new Set(cuts.map((c) => ends[c % ends.length]!))].sort((a, b) => a - b);
      const t = transform(multiline);
      const got: string[] = [];
      let prev = 0;
      let safe = 0;
      for (const end of [...at, bytes.length]) {
        if (end === prev) continue;
        const r = t.push(Buffer.from(bytes.subarray(prev, end)), end);
        assert.ok(r.safeOffset >= safe && r.safeOffset <= end, `safeOffset ${r.safeOffset} after ${safe}, end ${end}`);
        safe = r.safeOffset;
        got.push(...logs(r.out));
        const written = Buffer.byteLength(got.map((g) => g + "\n").join(""));
        assert.equal(safe, written, "safeOffset is exactly the end of what was written");
        prev = end;
      }
      const last = t.flush();
      got.push(...logs(last.out));
      assert.equal(last.safeOffset, bytes.length);
      assert.deepEqual(got, whole, "chunking does not change the records");
      assert.equal(got.join("\n"), ls.join("\n"), "every line once, in order");
    }),
    { numRuns: 300 },
  );
});

test("a grouper's state() taken up by restore() on a fresh one gives the same verdicts from there on; a state it does not know is refused and starts afresh", () => {
  const cases: [spec: string, before: string[], after: string[]][] = [
    ["java", ["x", "java.lang.IllegalStateException: boom", "\tat a.B.c(B.java:1)"], ["\tat a.B.d(B.java:2)", "Caused by: x.Y: z", "next"]],
    ["python", ["Traceback (most recent call last):", '  File "a.py", line 1', "ValueError: v", ""], ["During handling of the above exception, another exception occurred:", "", "Traceback (most recent call last):", '  File "b.py", line 2', "KeyError: k", "end"]],
    ["^\\d", ["1 start", "more"], ["more", "2 next", "more"]],
  ];
  for (const [spec, before, after] of cases) {
    const first = createGrouper(spec);
    for (const l of before) first.next(l);
    const state = first.state();
    const fresh = createGrouper(spec);
    assert.equal(fresh.restore(state), true, spec);
    assert.deepEqual(after.map((l) => fresh.next(l)), after.map((l) => first.next(l)), spec);
    const other = createGrouper(spec);
    assert.equal(other.restore("nonsense"), false, spec);
    assert.equal(other.state(), createGrouper(spec).state(), spec);
  }
});

// The webhook's log lines: one JSON object per line, the same bytes as stringifying
// { time, level, component, msg, ...fields } with Errors written as their message chains.
import assert from "node:assert/strict";
import { test } from "node:test";
import { batchedSink, createLogger, type LogFields } from "../../webhook/log.ts";

function logged(fields: LogFields | undefined, component = "webhook"): string {
  const lines: string[] = [];
  createLogger((line) => lines.push(line), component).log("warn", 'a "quoted" msg', fields);
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith("\n"));
  return lines[0]!;
}

test("a log line is JSON.stringify of time, level, component, msg and the fields, in that order", () => {
  const cases: [string, LogFields | undefined, (time: string) => unknown][] = [
    ["no fields", undefined, (time) => ({ time, level: "warn", component: "webhook", msg: 'a "quoted" msg' })],
    ["empty fields", {}, (time) => ({ time, level: "warn", component: "webhook", msg: 'a "quoted" msg' })],
    ["plain fields, undefined dropped", { uid: "u\n1", n: 1.5, ok: false, list: ["a", "b"], gone: undefined, nested: { a: [1] } },
      (time) => ({ time, level: "warn", component: "webhook", msg: 'a "quoted" msg', uid: "u\n1", n: 1.5, ok: false, list: ["a", "b"], nested: { a: [1] } })],
    ["a field named like a head key replaces it in place", { msg: "other", level: "x", extra: 1 },
      (time) => ({ time, level: "x", component: "webhook", msg: "other", extra: 1 })],
  ];
  for (const [name, fields, expected] of cases) {
    const line = logged(fields);
    const time = (JSON.parse(line) as { time: string }).time;
    assert.match(time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, name);
    assert.equal(line, `${JSON.stringify(expected(time))}\n`, name);
  }
});

test("an Error in the fields is logged as its message chain, at any depth", () => {
  const error = new Error("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") });
  const line = JSON.parse(logged({ error, nested: { errors: [error] } })) as { error: string; nested: { errors: string[] } };
  assert.equal(line.error, "fetch failed: connect ECONNREFUSED 127.0.0.1:1");
  assert.deepEqual(line.nested.errors, ["fetch failed: connect ECONNREFUSED 127.0.0.1:1"]);
});

test("the component is written as given, escaped", () => {
  assert.match(logged({}, 'side"car'), /"component":"side\\"car"/);
});

test("batchedSink joins the lines of one interval into one write, and writes a full batch at once", async () => {
  const writes: string[] = [];
  const sink = batchedSink((chunk) => writes.push(chunk), 5, 10);
  sink("a\n");
  sink("b\n");
  assert.deepEqual(writes, []);
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(writes, ["a\nb\n"]);
  sink("0123456789\n");
  assert.deepEqual(writes, ["a\nb\n", "0123456789\n"], "past maxChars the batch is written without waiting");
});

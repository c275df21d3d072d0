// The checklist as text and JSON, and the exit status.
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderJson, renderText } from "../../../webhook/check/render.ts";
import { exitCodeOf, fail, ok, skip, warn } from "../../../webhook/check/result.ts";

const results = [ok("installation", "a", "fine"), skip("installation", "b", "not looked at"), warn("namespace shop", "c", "maybe", "do this"), fail("namespace shop", "d", "broken\nsecond line", "fix it")];

test("text: groups as headings, one mark a line, the fix under each ✗ and ‼, a summary", () => {
  assert.equal(renderText({ target: "context k", results }), [
    "tailcar check: context k", "", "installation", "  ✓ fine", "  – not looked at", "", "namespace shop", "  ‼ maybe", "      fix: do this",
    "  ✗ broken", "    second line", "      fix: fix it", "", "1 problem, 1 warning, 1 passed, 1 skipped", "",
  ].join("\n"));
});

test("json: the target, a summary and every check", () => {
  const parsed = JSON.parse(renderJson({ target: "t", results })) as { summary: Record<string, number>; checks: unknown[] };
  assert.deepEqual(parsed.summary, { ok: 1, fail: 1, warn: 1, skip: 1 });
  assert.equal(parsed.checks.length, 4);
});

test("exit status: 1 when anything failed, 0 with warnings and skips alone", () => {
  assert.equal(exitCodeOf(results), 1);
  assert.equal(exitCodeOf(results.slice(0, 3)), 0);
});

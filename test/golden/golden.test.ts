import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { inject } from "../../webhook/inject.ts";
import { podPatch } from "../../webhook/patch.ts";
import { applyPodPatch } from "../webhook/apply-patch.ts";
import { GOLDEN_DIR, goldenFileNames, loadGoldenCases, renderGolden } from "./fixtures.ts";
import { readFileSync } from "node:fs";

const update = process.env.UPDATE_GOLDEN === "1";
const cases = loadGoldenCases();

test("every golden out or options file has its in file", () => {
  const orphans = goldenFileNames()
    .filter((f) => f.endsWith(".out.yaml") || f.endsWith(".options.yaml"))
    .filter((f) => !existsSync(`${GOLDEN_DIR}${f.replace(/\.(out|options)\.yaml$/, ".in.yaml")}`));
  assert.deepEqual(orphans, []);
});

test("there are golden cases", () => {
  assert.ok(cases.length >= 12, `only ${cases.length} cases`);
});

for (const c of cases) {
  test(`golden ${c.name}: inject() output matches ${c.name}.out.yaml`, () => {
    const result = inject(c.input, c.options, c.context);
    const rendered = renderGolden(result);
    if (update) writeFileSync(c.outPath, rendered);
    assert.ok(existsSync(c.outPath), `${c.outPath} is missing; run with UPDATE_GOLDEN=1`);
    assert.equal(rendered, readFileSync(c.outPath, "utf8"), `${c.name}.out.yaml is stale; run with UPDATE_GOLDEN=1 and review the diff`);
  });

  test(`golden ${c.name}: the JSON Patch turns the input into the injected pod, input untouched`, () => {
    const before = structuredClone(c.input);
    const result = inject(c.input, c.options, c.context);
    assert.deepEqual(c.input, before, "inject() mutated its input");
    const patch = podPatch(c.input, result.pod);
    if (result.skipped !== undefined) assert.deepEqual(patch, []);
    assert.deepEqual(applyPodPatch(c.input, patch), result.pod);
  });

  test(`golden ${c.name}: injecting the result again changes nothing`, () => {
    const first = inject(c.input, c.options, c.context);
    const second = inject(first.pod, c.options, c.context);
    assert.deepEqual(second.pod, first.pod);
    assert.deepEqual(second.injected, []);
    if (first.injected.length > 0) assert.equal(second.skipped, "already-injected");
  });
}

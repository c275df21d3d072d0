import { test } from "node:test";
import assert from "node:assert/strict";
import { addedCpuUs, judgeWebhook } from "../../bench/webhook-targets.ts";
import { summarize } from "../../bench/stats.ts";

test("added CPU is /mutate minus no-op round by round, not the difference of the medians", () => {
  // Medians 171 and 114 would give 57; paired per round the differences are 40, 50, 60 → 50.
  const added = addedCpuUs([150, 171, 200], [110, 121, 140]);
  assert.deepEqual(added, { median: 50, min: 40, max: 60, n: 3 });
  assert.throws(() => addedCpuUs([1, 2], [1]), /2 \/mutate rounds vs 1 no-op/);
});

test("judgeWebhook: each target met or missed on its median, at the bounds as the issue states them", () => {
  const table: [added: number, p99: number, met: [boolean, boolean]][] = [
    [50, 4.99, [true, true]],
    [50.01, 5, [false, false]],
    [57, 3.53, [false, true]],
    [-3, 12, [true, false]],
  ];
  for (const [added, p99, met] of table) {
    const rows = judgeWebhook(summarize([added]), summarize([p99]), 500);
    assert.deepEqual(rows.map((r) => r.met), met, `added ${added} µs, p99 ${p99} ms`);
    assert.match(rows[1]!.target, /500 admissions\/s/);
  }
});

test("no webhook target mentions the retired throughput ratio", () => {
  const rows = judgeWebhook(summarize([1]), summarize([1]), 500);
  for (const r of rows) assert.doesNotMatch(r.target, /0\.8|throughput/);
});

// SaveBackoff (sidecar/save-backoff.ts): failing checkpoint saves wait longer each time and are
// logged at most once a minute; one success resets both.
import { test } from "node:test";
import assert from "node:assert/strict";
import { SAVE_BACKOFF_MAX_MS, SaveBackoff } from "../../sidecar/save-backoff.ts";

test("failed saves retry after doubling waits from the interval up to a minute, and log once a minute with the failures in between", () => {
  const b = new SaveBackoff(1000);
  let now = 0;
  const waits: number[] = [];
  let logged = 0;
  let counted = 0;
  for (let i = 0; i < 12; i++) {
    assert.ok(b.due(now));
    const r = b.failed(now);
    waits.push(r.retryInMs);
    if (r.log) {
      logged++;
      counted += r.failures;
    }
    assert.ok(!b.due(now + r.retryInMs - 1));
    now += r.retryInMs;
  }
  assert.deepEqual(waits.slice(0, 6), [2000, 4000, 8000, 16_000, 32_000, SAVE_BACKOFF_MAX_MS]);
  assert.ok(waits.slice(5).every((w) => w === SAVE_BACKOFF_MAX_MS));
  assert.ok(logged <= Math.ceil(now / 60_000) + 1, `${logged} lines in ${now} ms`);
  assert.ok(counted <= 12 && counted >= 12 - 1, "each logged line counts the failures since the one before");
});

test("a success after failures reports them once and saves on the next interval again", () => {
  const b = new SaveBackoff(1000);
  b.failed(0);
  b.failed(2000);
  assert.equal(b.succeeded(), 2);
  assert.ok(b.due(0));
  assert.equal(b.succeeded(), 0);
  assert.equal(b.failed(10).log, true, "a new run of failures is logged at once");
});

test("an interval longer than a minute is never shortened by the cap", () => {
  assert.equal(new SaveBackoff(120_000).failed(0).retryInMs, 120_000);
});

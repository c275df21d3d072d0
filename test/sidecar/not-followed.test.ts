// How a path that is not followed is reported (sidecar/not-followed.ts): once when the reason
// starts or changes, and an error again every REPEAT_MS while it lasts, never at the poll's pace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { notice, observe, REPEAT_MS, type Reported } from "../../sidecar/not-followed.ts";

test("a reason is logged when it starts or changes; an error again every REPEAT_MS while it lasts, a missing file only once", () => {
  let s: Reported | undefined;
  const seen: string[] = [];
  const at = (reason: string, now: number): void => {
    const r = observe(s, reason, now);
    s = r.state;
    if (r.log) seen.push(`${reason}@${now}`);
  };
  at("missing", 0);
  at("missing", REPEAT_MS * 3);
  at("EACCES", REPEAT_MS * 3 + 1);
  for (let now = REPEAT_MS * 3 + 251; now <= REPEAT_MS * 5 + 1; now += 250) at("EACCES", now);
  at("fifo", REPEAT_MS * 6);
  assert.deepEqual(seen, ["missing@0", "EACCES@180001", "EACCES@240001", "EACCES@300001", "fifo@360000"]);
  assert.equal(s?.since, REPEAT_MS * 6);
  assert.equal(notice("EACCES").level, "error");
  assert.equal(notice("fifo").level, "error");
  assert.equal(notice("missing").level, "info");
  assert.equal(notice("followed-elsewhere").level, "info");
  assert.match(notice("directory").msg, /directory/);
});

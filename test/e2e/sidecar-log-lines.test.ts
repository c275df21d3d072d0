import assert from "node:assert/strict";
import { test } from "node:test";
import { diagnostics, fileLines, sequenceReport } from "./sidecar-log-lines.ts";

test("sequenceReport finds nothing wrong in 0..n-1 once each, in order", () => {
  assert.deepEqual(sequenceReport([0, 1, 2, 3], 4), { missing: 0, duplicates: 0, breaks: 0, unexpected: 0, firstBreaks: [] });
});

test("sequenceReport counts lines missing, doubled, out of place and out of range", () => {
  assert.deepEqual(sequenceReport([0, 1, 3, 2, 2, 7], 5), { missing: 1, duplicates: 1, breaks: 4, unexpected: 1, firstBreaks: ["1->3", "3->2", "2->2", "2->7"] });
  assert.equal(sequenceReport([], 3).missing, 3);
  assert.equal(sequenceReport([1, 2], 3).breaks, 1, "a stream that does not start at 0 breaks at its start");
});

test("a sidecar's diagnostics are told apart from the file's lines, JSON lines of the file included", () => {
  const log = ['{"time":"t","level":"info","msg":"following file","file":"/a"}', '{"time":"x","not":"a diagnostic"}', "0: plain", ""].join("\n");
  assert.deepEqual(fileLines(log), ['{"time":"x","not":"a diagnostic"}', "0: plain"]);
  assert.deepEqual(diagnostics(log).map((d) => d.msg), ["following file"]);
});

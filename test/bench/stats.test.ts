import { test } from "node:test";
import assert from "node:assert/strict";
import { summarize, percentile, pairedRatios, parseProcStatCpuTicks, parseSmapsRollup, formatRange } from "../../bench/stats.ts";
import { replaceSection } from "../../bench/report.ts";

test("summarize gives the median of odd and even counts, with min and max, whatever the order", () => {
  assert.deepEqual(summarize([3, 1, 2]), { median: 2, min: 1, max: 3, n: 3 });
  assert.deepEqual(summarize([4, 1, 3, 2]), { median: 2.5, min: 1, max: 4, n: 4 });
  assert.throws(() => summarize([]), /no samples/);
});

test("percentile is nearest-rank: p99 of 1..100 is 99, p50 is 50, p100 the maximum", () => {
  const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.equal(percentile(xs, 99), 99);
  assert.equal(percentile(xs, 50), 50);
  assert.equal(percentile(xs, 100), 100);
  assert.equal(percentile([7], 99), 7);
  assert.throws(() => percentile(xs, 101), /p=101/);
});

test("pairedRatios divides round by round and refuses unequal rounds", () => {
  assert.deepEqual(pairedRatios([2, 9], [4, 3]), [0.5, 3]);
  assert.throws(() => pairedRatios([1], [1, 2]), /1 values vs 2/);
});

test("parseProcStatCpuTicks adds utime and stime even when the command name holds spaces and parentheses", () => {
  // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
  const stat = "4242 (node (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 123 45 0 0 20 0 7 0 1000 0 0";
  assert.equal(parseProcStatCpuTicks(stat), 168);
  assert.throws(() => parseProcStatCpuTicks("garbage"), /no "\)"/);
});

test("parseSmapsRollup reads Rss and Anonymous, not Pss_Anon or the like", () => {
  const text = [
    "55d0c0000000-7ffd00000000 ---p 00000000 00:00 0                          [rollup]",
    "Rss:               44012 kB",
    "Pss:               40000 kB",
    "Pss_Anon:           9000 kB",
    "Anonymous:          8123 kB",
    "",
  ].join("\n");
  assert.deepEqual(parseSmapsRollup(text), { rss: 44012, anonymous: 8123 });
  assert.throws(() => parseSmapsRollup("Rss: 1 kB\n"), /no "Rss:"|no "Anonymous:"/);
});

test("formatRange prints median and spread", () => {
  assert.equal(formatRange({ median: 1.234, min: 1, max: 2, n: 3 }), "1.23 (1.00–2.00)");
});

test("replaceSection replaces only its own section and adds both sections' markers to a new file", () => {
  const fresh = replaceSection("# Benchmarks\n", "sidecar", "S1");
  assert.match(fresh, /<!-- sidecar:start -->\nS1\n<!-- sidecar:end -->/);
  assert.match(fresh, /<!-- webhook:start -->\n<!-- webhook:end -->/);
  const withWebhook = replaceSection(fresh, "webhook", "W1");
  const again = replaceSection(withWebhook, "sidecar", "S2");
  assert.match(again, /<!-- sidecar:start -->\nS2\n<!-- sidecar:end -->/);
  assert.match(again, /<!-- webhook:start -->\nW1\n<!-- webhook:end -->/);
  assert.ok(!again.includes("S1"));
  assert.throws(() => replaceSection("<!-- sidecar:start -->\n<!-- webhook:start --><!-- webhook:end -->", "sidecar", "x"), /has no "<!-- sidecar:end -->"/);
});

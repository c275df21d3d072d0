// The forwarding section of BENCHMARKS.md: the target is judged on each output's median, and the
// baseline the ratios are against is named.
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderForwarding } from "../../bench/forwarding-render.ts";
import type { ForwardingResults, ForwardingRow } from "../../bench/forwarding.ts";
import { summarize } from "../../bench/stats.ts";

const one = (x: number) => summarize([x]);
const row = (sink: ForwardingRow["sink"], linesPerS: number, cores: number): ForwardingRow => ({
  sink, baseline: sink === "loki", linesPerS: one(linesPerS), cpuSPerMillion: one(10), cores: one(cores), ratio: one(linesPerS / 40_000), cpuRatio: one(1), perRound: [],
});

test("each output's row says whether it met ≥ 50,000 lines/s and ≤ 1 core, against the Loki output", () => {
  const results: ForwardingResults = {
    date: "2026-12-05T00:00:00Z", quick: false, cores: 2, loadAvg: { start: 1, end: 2 }, cpuModel: "cpu", node: "v24", rounds: 3, lines: 500_000, lineBytes: 200, baseline: "loki", downRate: 5000,
    rows: [row("elasticsearch", 30_000, 0.5), row("loki", 40_000, 0.5), row("otlp", 60_000, 1.2)],
    outage: [{ sink: "otlp", downS: 60, written: 300_000, rssStartMiB: 70, rssPeakMiB: 71, anonStartMiB: 20, anonPeakMiB: 21, catchUpS: 9, stored: 300_000 }],
  };
  const md = renderForwarding(results);
  assert.match(md, /\| Elasticsearch `_bulk` \| 30000 .*\| \*\*no\*\* \/ yes \|$/m);
  assert.match(md, /\| Loki push \(baseline\) \| 40000 .*\| \*\*no\*\* \/ yes \|$/m);
  assert.match(md, /\| OTLP\/HTTP \(protobuf\) \| 60000 \(60000–60000\) \| 1\.50 .*\| yes \/ \*\*no\*\* \|$/m);
  assert.match(md, /\| OTLP\/HTTP \(protobuf\) \| 300,000 \| 70\.0 \| 71\.0 \| 20\.0 \| 21\.0 \| 9\.0 \| 300,000 \|/);
  assert.doesNotMatch(md, /quick smoke run/);
});

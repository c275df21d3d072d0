// docs/sidecar.md's metrics table against what the sidecar really exports: a metric exported and not
// documented, documented and not exported, or documented with another type, unit or labels fails.
// The exported set is read from a live /metrics with every metric present (forwarding on, a path
// not followed), not from a list that could drift from the code as the docs can.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { serveMetrics } from "../../sidecar/metrics.ts";
import { createStats } from "../../sidecar/stats.ts";
import type { SinkStats } from "../../sidecar/sinks/network-sink.ts";

interface Documented {
  readonly type: string;
  readonly unit: string;
  readonly labels: readonly string[];
}

/** The rows of the table under "## Metrics and readiness": name → type, unit, labels. */
function documented(): Map<string, Documented> {
  const doc = readFileSync(new URL("../../docs/sidecar.md", import.meta.url), "utf8");
  const section = doc.slice(doc.indexOf("## Metrics and readiness"));
  const rows = new Map<string, Documented>();
  for (const line of section.split("\n")) {
    const m = /^\| `(tailcar_[a-z_]+)` \| (\w+) \| ([^|]+) \| ([^|]+) \|/.exec(line);
    if (!m) continue;
    const labels = m[4]!.trim() === "—" ? [] : [...m[4]!.matchAll(/`(\w+)`/g)].map((l) => l[1]!);
    assert.ok(!rows.has(m[1]!), `${m[1]} documented twice`);
    rows.set(m[1]!, { type: m[2]!, unit: m[3]!.trim(), labels: labels.sort() });
  }
  return rows;
}

/** Every metric of a /metrics text with its type and the label names of its samples. */
function exported(text: string): Map<string, { type: string; labels: string[] }> {
  const metrics = new Map<string, { type: string; labels: Set<string> }>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) metrics.set(type[1]!, { type: type[2]!, labels: new Set() });
    const sample = /^([a-z_]+)\{([^}]*)\} /.exec(line);
    if (sample) for (const l of sample[2]!.matchAll(/(\w+)="/g)) metrics.get(sample[1]!)?.labels.add(l[1]!);
  }
  return new Map([...metrics].map(([name, m]) => [name, { type: m.type, labels: [...m.labels].sort() }]));
}

test("every metric the sidecar exports is in docs/sidecar.md with its type, unit and labels, and nothing else is", async (t) => {
  const stats = createStats(["/var/log/app.log", "/var/log/missing.log"]);
  stats.files.get("/var/log/missing.log")!.notFollowed = "missing";
  const sink: SinkStats = { linesAcked: 0, linesDropped: 0, duplicatesAbsorbed: 0, linesResent: 0, requests: 1, failedRequests: 0, authFailures: 0, credentialErrors: 0, tlsFailures: 0 };
  const server = await serveMetrics(stats, 0, { sink: "loki", stats: sink });
  t.after(() => server.close());
  const text = await (await fetch(`http://127.0.0.1:${server.port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const live = exported(text);
  const docs = documented();
  assert.ok(live.size >= 16, `${live.size} metrics exported`);
  assert.deepEqual([...docs.keys()].sort(), [...live.keys()].sort(), "documented and exported metrics differ");
  for (const [name, m] of live) {
    const d = docs.get(name)!;
    assert.equal(d.type, m.type, `${name}: type`);
    assert.deepEqual(d.labels, m.labels, `${name}: labels`);
    // Prometheus names carry their base unit: the documented unit must be it, and a count no unit.
    const unit = /_(bytes|seconds)(_total)?$/.exec(name)?.[1];
    if (unit !== undefined) assert.equal(d.unit, unit, `${name}: unit`);
    else assert.ok(!/bytes|seconds/.test(d.unit) && d.unit !== "", `${name}: a count's unit, not ${JSON.stringify(d.unit)}`);
  }
});

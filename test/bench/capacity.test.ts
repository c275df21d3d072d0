import { test } from "node:test";
import assert from "node:assert/strict";
import { capacityModel, interpolate, webhookRow, type Assumptions, type Figures } from "../../bench/capacity-model.ts";
import { renderCapacity, replaceBetweenMarkers } from "../../bench/capacity-render.ts";

const A: Assumptions = { pods: 1000, filesPerPod: 2, podsPerNode: 100, ratesPerFile: [0, 10, 100, 1000, 5000], podCreationsPerS: 100, admissionP99BoundMs: 10, runtimePrefixBytes: 40 };
const F: Figures = {
  sidecars: [
    { name: "tailcar", points: [{ linesPerS: 0, cpuMsPerS: 1, workingSetMiB: 11 }, { linesPerS: 1000, cpuMsPerS: 85, workingSetMiB: 15 }], anonymousMiB: 10, rssMiB: 50 },
    { name: "busybox", points: [{ linesPerS: 1000, cpuMsPerS: 0.3, workingSetMiB: 0.5 }, { linesPerS: 0, cpuMsPerS: 0.1, workingSetMiB: 0.3 }], anonymousMiB: 0.1, rssMiB: 1.4 },
  ],
  webhook: { cpuUsPerAdmission: 200, openLoops: [{ rate: 500, p99Ms: 4 }] },
  lineBytes: 120,
};

test("interpolate: measured points as they are, linear between two, nothing outside", () => {
  const pts = F.sidecars[0]!.points;
  assert.deepEqual(interpolate(pts, 0), { ...pts[0], source: "measured" });
  assert.deepEqual(interpolate(pts, 1000), { ...pts[1], source: "measured" });
  const mid = interpolate(pts, 100)!;
  assert.equal(mid.source, "interpolated");
  assert.ok(Math.abs(mid.cpuMsPerS - 9.4) < 1e-9, `${mid.cpuMsPerS}`);
  assert.ok(Math.abs(mid.workingSetMiB - 11.4) < 1e-9, `${mid.workingSetMiB}`);
  assert.equal(interpolate(pts, 5000), undefined);
  assert.equal(interpolate(pts, -1), undefined);
  // Unsorted points interpolate the same.
  assert.ok(Math.abs(interpolate(F.sidecars[1]!.points, 500)!.cpuMsPerS - 0.2) < 1e-9);
});

test("capacityModel: fleet totals by rate, per container times containers, none past the measured rates", () => {
  const m = capacityModel(F, A);
  assert.equal(m.nodes, 10);
  assert.equal(m.containers, 2000);
  const table: [rate: number, tailer: string, cores: number | undefined, gib: number | undefined][] = [
    [0, "tailcar", 2, (2000 * 11) / 1024],
    [10, "tailcar", 2000 * 1.84 / 1000, (2000 * 11.04) / 1024],
    [1000, "tailcar", 170, (2000 * 15) / 1024],
    [1000, "busybox", 0.6, 1000 / 1024],
    [5000, "tailcar", undefined, undefined],
  ];
  for (const [rate, tailer, cores, gib] of table) {
    const row = m.fleet.find((r) => r.linesPerS === rate && r.tailer === tailer)!;
    if (cores === undefined) {
      assert.equal(row.cost, undefined, `${tailer} at ${rate}`);
      continue;
    }
    assert.ok(Math.abs(row.cost!.cpuCores - cores) < 1e-9, `${tailer} at ${rate}: ${row.cost!.cpuCores} cores`);
    assert.ok(Math.abs(row.cost!.workingSetGiB - gib!) < 1e-9, `${tailer} at ${rate}: ${row.cost!.workingSetGiB} GiB`);
    assert.equal(row.cost!.source, rate === 10 ? "interpolated" : "measured");
  }
});

test("capacityModel: shared file pages counted once a node, anonymous once a container", () => {
  const [tailcar] = capacityModel(F, A).memory;
  assert.equal(tailcar!.anonymousGiB, (2000 * 10) / 1024);
  assert.equal(tailcar!.rssSummedGiB, (2000 * 50) / 1024);
  assert.equal(tailcar!.sharedGiB, (10 * 40) / 1024);
  assert.equal(tailcar!.residentGiB, (2000 * 10 + 10 * 40) / 1024);
});

test("capacityModel: the collector receives every file's lines with the runtime's prefix", () => {
  const row = capacityModel(F, A).collector.find((r) => r.linesPerS === 100)!;
  assert.deepEqual(row, { linesPerS: 100, linesPerSPerNode: 20_000, mbPerSPerNode: (20_000 * 160) / 1e6, linesPerSCluster: 200_000, mbPerSCluster: (200_000 * 160) / 1e6 });
});

test("capacityModel: a node agent's point is looked up at the node's lines/s, once a node", () => {
  const agent = { name: "agent", points: [{ linesPerS: 0, cpuMsPerS: 2, workingSetMiB: 40 }, { linesPerS: 4000, cpuMsPerS: 42, workingSetMiB: 60 }], anonymousMiB: 30, rssMiB: 40 };
  const m = capacityModel({ ...F, nodeAgent: agent }, A);
  // 10 lines/s a file × 2 files × 100 pods = 2,000 lines/s a node: halfway.
  const at10 = m.fleet.find((r) => r.linesPerS === 10 && r.tailer === "agent")!;
  assert.ok(Math.abs(at10.cost!.cpuCores - (10 * 22) / 1000) < 1e-9);
  assert.ok(Math.abs(at10.cost!.workingSetGiB - (10 * 50) / 1024) < 1e-9);
  // 100 lines/s a file is 20,000 a node: past what was measured.
  assert.equal(m.fleet.find((r) => r.linesPerS === 100 && r.tailer === "agent")!.cost, undefined);
});

test("webhookRow: replicas from the highest measured rate whose p99 is within the bound, none claimed otherwise", () => {
  const table: [loops: { rate: number; p99Ms: number }[], creations: number, replicas: number | undefined][] = [
    [[{ rate: 500, p99Ms: 4 }], 100, 1],
    [[{ rate: 500, p99Ms: 9.99 }], 1200, 3],
    [[{ rate: 500, p99Ms: 10 }], 100, undefined],
    [[{ rate: 500, p99Ms: 11.5 }, { rate: 100, p99Ms: 3 }], 100, 1],
    [[{ rate: 500, p99Ms: 11.5 }, { rate: 100, p99Ms: 3 }], 250, 3],
    [[{ rate: 50, p99Ms: 2 }], 100, 2],
    [[], 100, undefined],
  ];
  for (const [openLoops, creations, replicas] of table) {
    const row = webhookRow({ cpuUsPerAdmission: 200, openLoops }, { ...A, podCreationsPerS: creations });
    assert.equal(row.replicas, replicas, `${creations}/s against ${JSON.stringify(openLoops)}`);
    assert.ok(Math.abs(row.cpuCores - creations * 200e-6) < 1e-12);
    if (replicas === undefined) assert.match(row.why, /no replica count follows/);
  }
});

test("capacityModel refuses figures that cannot be right, naming them", () => {
  assert.throws(() => capacityModel(F, { ...A, podsPerNode: 0 }), /podsPerNode must be a positive number, not 0/);
  assert.throws(() => capacityModel({ ...F, lineBytes: Number.NaN }, A), /lineBytes/);
  assert.throws(() => capacityModel({ ...F, sidecars: [{ ...F.sidecars[0]!, rssMiB: 5 }] }, A), /tailcar's RSS 5 MiB is below its anonymous 10 MiB/);
  assert.throws(() => capacityModel({ ...F, sidecars: [{ ...F.sidecars[0]!, points: [] }] }, A), /tailcar has no measured rate/);
});

test("the rendered model states its assumptions, marks interpolated rows and says the node agent is not measured", () => {
  const m = capacityModel(F, A);
  const text = renderCapacity(m, F, A, { sources: [{ file: "bench/results/x.json", date: "2026-12-05T00:00:00Z", note: "n" }] });
  assert.match(text, /1,000 pods with 2 log files each/);
  assert.match(text, /100 pods a node, so 10 nodes/);
  assert.match(text, /interpolated linearly/);
  assert.match(text, /\| 10 \| tailcar \| 3\.7 \| 21\.6 \| interpolated \|/);
  assert.match(text, /\| 5,000 \| tailcar \| — \| — \| not measured at this rate \|/);
  assert.match(text, /node-level agent .* \*\*not measured here\*\*/);
  assert.match(text, /\*\*1\*\* replica for the load/);
});

test("replaceBetweenMarkers keeps the rest of the doc and names a missing marker", () => {
  const doc = "head\n<!-- capacity:start -->\nold\n<!-- capacity:end -->\ntail\n";
  assert.equal(replaceBetweenMarkers(doc, "capacity", "new", "d.md"), "head\n<!-- capacity:start -->\nnew\n<!-- capacity:end -->\ntail\n");
  assert.throws(() => replaceBetweenMarkers("head", "capacity", "new", "d.md"), /d\.md: no "<!-- capacity:start -->" marker/);
  assert.throws(() => replaceBetweenMarkers("<!-- capacity:start -->", "capacity", "new", "d.md"), /has no "<!-- capacity:end -->"/);
});

test("figuresFromResults takes each tailer's rows from the stored results, and names a row it cannot find", async () => {
  const { readFileSync } = await import("node:fs");
  const { figuresFromResults } = await import("../../bench/capacity-figures.ts");
  const load = (n: string): never => JSON.parse(readFileSync(new URL(`../../bench/results/${n}.json`, import.meta.url), "utf8")) as never;
  const sidecar = load("sidecar");
  const realNode = load("real-node") as { rows: { name: string; idleCpuMsPerS: { median: number } }[] };
  const webhook = load("webhook") as { rows: { name: string; cpuUsPerReq: { median: number } }[] };
  const f = figuresFromResults(sidecar, realNode as never, webhook as never);
  assert.deepEqual(f.sidecars.map((s) => s.points.map((p) => p.linesPerS)), [[0, 1000], [0, 1000]]);
  assert.equal(f.sidecars[0]!.points[0]!.cpuMsPerS, realNode.rows.find((r) => r.name === "tailcar sidecar (injected)")!.idleCpuMsPerS.median);
  assert.equal(f.webhook.cpuUsPerAdmission, webhook.rows.find((r) => r.name === "tailcar /mutate")!.cpuUsPerReq.median);
  assert.ok(f.sidecars[0]!.rssMiB > f.sidecars[0]!.anonymousMiB);
  const renamed = { ...webhook, rows: webhook.rows.map((r) => ({ ...r, name: `${r.name}!` })) };
  assert.throws(() => figuresFromResults(sidecar, realNode as never, renamed as never), /webhook\.json: no row named "tailcar \/mutate"/);
});

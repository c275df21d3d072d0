// `npm run capacity`: docs/capacity.md's model from the figures the benches stored in bench/results/
// (bench/run.ts runs it after a full `npm run bench`). Reads sidecar.json, real-node.json and
// webhook.json, writes the text between docs/capacity.md's capacity markers; the rest is kept.
import { readFile, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { capacityModel, type Assumptions } from "./capacity-model.ts";
import { figuresFromResults } from "./capacity-figures.ts";
import { renderCapacity, replaceBetweenMarkers } from "./capacity-render.ts";
import type { SidecarResults } from "./sidecar.ts";
import type { RealNodeResults } from "./real-node.ts";
import type { WebhookResults } from "./webhook.ts";

export const ASSUMPTIONS: Assumptions = {
  pods: 10_000,
  filesPerPod: 2,
  // The issue's example node (200 injected sidecars), under the kubelet's default limit of 110 pods.
  podsPerNode: 100,
  ratesPerFile: [0, 10, 100, 1000],
  podCreationsPerS: 100,
  admissionP99BoundMs: 10,
  // "2026-12-05T11:22:53.123456789Z stdout F " : 30 + 1 + 6 + 1 + 1 + 1.
  runtimePrefixBytes: 40,
};

const ROOT = new URL("../", import.meta.url);
const DOC = fileURLToPath(new URL("docs/capacity.md", ROOT));

async function results<T>(name: string): Promise<T> {
  const file = new URL(`bench/results/${name}.json`, ROOT);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch {
    throw new Error(`bench/results/${name}.json is missing: run \`npm run bench -- --only ${name}\` first`);
  }
  return JSON.parse(text) as T;
}

export async function writeCapacityDoc(): Promise<void> {
  const sidecar = await results<SidecarResults>("sidecar");
  const realNode = await results<RealNodeResults>("real-node");
  const webhook = await results<WebhookResults>("webhook");
  const figures = figuresFromResults(sidecar, realNode, webhook);
  const model = capacityModel(figures, ASSUMPTIONS);
  const body = renderCapacity(model, figures, ASSUMPTIONS, {
    sources: [
      { file: "bench/results/real-node.json", date: realNode.date, note: `each sidecar container's CPU and working set on a real kubelet/containerd node, idle and at ${(realNode.rateLinesPerS ?? 1000).toLocaleString("en-US")} lines/s, ${realNode.rounds} rounds (load average ${realNode.loadAvg.start.toFixed(0)}–${realNode.loadAvg.end.toFixed(0)})${realNode.nodeAgent ? "; the node's OpenTelemetry Collector, idle and at the node's rate" : ""}` },
      { file: "bench/results/sidecar.json", date: sidecar.date, note: `idle anonymous memory and RSS of the processes (\`tailcar sidecar\` as injected, \`busybox tail -F\`), ${sidecar.memRounds} rounds; the mean line length of its file (load average ${sidecar.loadAvg.start.toFixed(0)}–${sidecar.loadAvg.end.toFixed(0)})` },
      { file: "bench/results/webhook.json", date: webhook.date, note: `/mutate's server CPU per admission and one replica's p99 at ${[webhook.rate, ...(webhook.lowRate === undefined ? [] : [webhook.lowRate])].join(" and ")} admissions/s, with the no-op handler's beside it, ${webhook.rounds} rounds (load average ${webhook.loadAvg ? `${webhook.loadAvg.start.toFixed(0)}–${webhook.loadAvg.end.toFixed(0)}` : "not recorded"})` },
    ],
  });
  const doc = await readFile(DOC, "utf8");
  await writeFile(DOC, replaceBetweenMarkers(doc, "capacity", body, "docs/capacity.md"));
}

if (import.meta.main) {
  await writeCapacityDoc().then(
    () => process.stderr.write("[capacity] wrote docs/capacity.md\n"),
    (e: unknown) => {
      process.stderr.write(`capacity: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

// The capacity model's figures, taken from what the benches wrote to bench/results/ (pure: the
// parsed JSON in, the figures and where each came from out).
import type { Figures, SidecarFigures } from "./capacity-model.ts";
import type { SidecarResults } from "./sidecar.ts";
import type { RealNodeResults } from "./real-node.ts";
import type { WebhookResults } from "./webhook.ts";

/** The real node's rate when a results file does not say (files written before it did: 1,000 lines/s). */
const REAL_NODE_RATE_BEFORE_RECORDED = 1000;

/** Which row of each results file stands for which tailer. */
export const ROWS = {
  tailcar: { realNode: "tailcar sidecar (injected)", process: "tailcar sidecar" },
  busybox: { realNode: "busybox `tail -n+1 -F` sidecar (the docs' pattern, baseline)", process: "busybox tail" },
  webhook: "tailcar /mutate",
  noop: "no-op express handler (baseline)",
} as const;

export interface Sources {
  readonly sidecar: string;
  readonly realNode: string;
  readonly webhook: string;
}

function row<T extends { name: string }>(rows: readonly T[], name: string, file: string): T {
  const found = rows.find((r) => r.name === name);
  if (found === undefined) throw new Error(`${file}: no row named ${JSON.stringify(name)} (rows: ${rows.map((r) => JSON.stringify(r.name)).join(", ")})`);
  return found;
}

function sidecarFigures(name: string, realNode: RealNodeResults, process: SidecarResults, rows: { realNode: string; process: string }): SidecarFigures {
  const node = row(realNode.rows, rows.realNode, "bench/results/real-node.json");
  const idle = row(process.idle, rows.process, "bench/results/sidecar.json");
  const rate = realNode.rateLinesPerS ?? REAL_NODE_RATE_BEFORE_RECORDED;
  return {
    name,
    points: [
      { linesPerS: 0, cpuMsPerS: node.idleCpuMsPerS.median, workingSetMiB: node.idleWorkingSetMiB.median },
      { linesPerS: rate, cpuMsPerS: node.rateCpuMsPerS.median, workingSetMiB: node.rateWorkingSetMiB.median },
    ],
    // The larger of the two idle samples, as the sidecar bench judges its targets.
    anonymousMiB: Math.max(idle.anonMiB.median, idle.settledAnonMiB.median),
    rssMiB: Math.max(idle.rssMiB.median, idle.settledRssMiB.median),
  };
}

export function figuresFromResults(sidecar: SidecarResults, realNode: RealNodeResults, webhook: WebhookResults): Figures {
  const mutate = row(webhook.rows, ROWS.webhook, "bench/results/webhook.json");
  if (mutate.openP99Ms === undefined) throw new Error(`bench/results/webhook.json: the row ${JSON.stringify(ROWS.webhook)} has no open-loop p99`);
  // The baseline's p99s in the same run say how much of a p99 is the machine's.
  const noop = webhook.rows.find((r) => r.name === ROWS.noop);
  const agent = realNode.nodeAgent;
  return {
    sidecars: [
      sidecarFigures("tailcar sidecar", realNode, sidecar, ROWS.tailcar),
      sidecarFigures("busybox `tail -F` sidecar", realNode, sidecar, ROWS.busybox),
    ],
    ...(agent && {
      nodeAgent: {
        name: agent.name,
        points: [
          { linesPerS: 0, cpuMsPerS: agent.idleCpuMsPerS.median, workingSetMiB: agent.idleRssMiB.median },
          { linesPerS: agent.linesPerS, cpuMsPerS: agent.rateCpuMsPerS.median, workingSetMiB: agent.rateRssMiB.median },
        ],
        anonymousMiB: agent.idleAnonymousMiB.median,
        rssMiB: agent.idleRssMiB.median,
      },
    }),
    webhook: {
      cpuUsPerAdmission: mutate.cpuUsPerReq.median,
      openLoops: [
        { rate: webhook.rate, p99Ms: mutate.openP99Ms.median, ...(noop?.openP99Ms && { noopP99Ms: noop.openP99Ms.median }) },
        ...(webhook.lowRate !== undefined && mutate.lowOpenP99Ms !== undefined ? [{ rate: webhook.lowRate, p99Ms: mutate.lowOpenP99Ms.median, ...(noop?.lowOpenP99Ms && { noopP99Ms: noop.lowOpenP99Ms.median }) }] : []),
      ],
    },
    lineBytes: sidecar.fileBytes / sidecar.fileLines,
  };
}

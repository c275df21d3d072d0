// The webhook benchmark's targets (issue 17) and their verdicts: pure, so the table that judges them
// is tested apart from the servers. The earlier "throughput ≥ 0.8× the no-op" target is retired:
// it measured express more than tailcar, and the runs' spread was wider than the gap.
import { summarize, type Summary } from "./stats.ts";

/** Server CPU a request tailcar's /mutate may add over the no-op handler, µs. */
export const ADDED_CPU_TARGET_US = 50;
/** The open loop's p99 bound, ms. */
export const OPEN_P99_TARGET_MS = 5;

export interface TargetRow {
  readonly target: string;
  readonly measured: Summary;
  readonly unit: string;
  readonly met: boolean;
}

/**
 * CPU µs a request /mutate adds over the no-op handler, paired per round (each round measures both
 * servers under the same conditions). Throws when the rounds do not pair up.
 */
export function addedCpuUs(mutateCpuUs: readonly number[], noopCpuUs: readonly number[]): Summary {
  if (mutateCpuUs.length !== noopCpuUs.length) throw new Error(`addedCpuUs: ${mutateCpuUs.length} /mutate rounds vs ${noopCpuUs.length} no-op rounds`);
  return summarize(mutateCpuUs.map((c, i) => c - noopCpuUs[i]!));
}

/** The two targets, each judged on its median over rounds. */
export function judgeWebhook(added: Summary, openP99Ms: Summary, rate: number): TargetRow[] {
  return [
    { target: `server CPU a request added over the no-op handler ≤ ${ADDED_CPU_TARGET_US} µs (/mutate minus no-op, paired per round)`, measured: added, unit: "µs", met: added.median <= ADDED_CPU_TARGET_US },
    { target: `p99 < ${OPEN_P99_TARGET_MS} ms at ${rate} admissions/s (open loop, from each request's due time, or its send if earlier)`, measured: openP99Ms, unit: "ms", met: openP99Ms.median < OPEN_P99_TARGET_MS },
  ];
}

// BENCHMARKS.md's forwarding section from bench/forwarding.ts' results.
import type { ForwardingResults } from "./forwarding.ts";
import { formatRange } from "./stats.ts";

/** The target: at least this many 200-byte lines a second, on at most one core. */
export const TARGET = { linesPerS: 50_000, cores: 1 } as const;

const NAMES = { elasticsearch: "Elasticsearch `_bulk`", loki: "Loki push", otlp: "OTLP/HTTP (protobuf)" } as const;

export function renderForwarding(x: ForwardingResults): string {
  const out: string[] = [];
  const yes = (ok: boolean): string => (ok ? "yes" : "**no**");
  out.push(`## Forwarding to VictoriaLogs${x.quick ? " (quick smoke run: not representative)" : ""}`);
  out.push("");
  out.push(`${x.date.slice(0, 10)}, ${x.cores} cores (${x.cpuModel}), Node ${x.node}, 1-minute load average ${x.loadAvg.start.toFixed(1)} at the start and ${x.loadAvg.end.toFixed(1)} at the end (the machine's other work slows the sidecar and VictoriaLogs alike; the ratios, paired per round, are the figures to compare). Baseline: the ${NAMES[x.baseline]} output, measured in the same rounds.`);
  out.push("");
  out.push(`### Throughput and CPU (${(x.lines / 1000).toLocaleString("en-US")}k lines of ${x.lineBytes} bytes, ${x.rounds} round${x.rounds > 1 ? "s" : ""}, order rotated; target ≥ ${TARGET.linesPerS.toLocaleString("en-US")} lines/s on ≤ ${TARGET.cores} core)`);
  out.push("");
  out.push("The built sidecar, as the webhook runs it (checkpoint directory, the four pod-metadata variables, raw lines), follows a file written in full beforehand, and sends it to a VictoriaLogs of its own on 127.0.0.1 (fresh for each run, built from Go modules as in the tests) at the endpoint docs/forwarding.md gives for that output. Lines/s and CPU run from the first line the backend acknowledged to the last (the sidecar's `tailcar_sidecar_lines_written_total`, scraped every 20 ms), so the ~0.1 s Node start is not in them; CPU is the sidecar's threads' user+system time (schedstat, ns), not VictoriaLogs'; cores = that CPU over that wall time. Every run checks that VictoriaLogs then holds every line.");
  out.push("");
  out.push(`| output | lines/s | × ${NAMES[x.baseline]} lines/s | CPU-s per million lines | × ${NAMES[x.baseline]} CPU | cores while streaming | target met |`);
  out.push("|---|---|---|---|---|---|---|");
  for (const row of x.rows) {
    const met = `${yes(row.linesPerS.median >= TARGET.linesPerS)} / ${yes(row.cores.median <= TARGET.cores)}`;
    out.push(`| ${NAMES[row.sink]}${row.baseline ? " (baseline)" : ""} | ${formatRange(row.linesPerS, 0)} | ${formatRange(row.ratio)} | ${formatRange(row.cpuSPerMillion)} | ${formatRange(row.cpuRatio)} | ${formatRange(row.cores)} | ${met} |`);
  }
  out.push("");
  const down = x.outage[0]?.downS ?? 0;
  out.push(`### Memory while the backend is down (${down} s, one run, the three outputs at once)`);
  out.push("");
  out.push(`Each output's sidecar starts with its backend's port closed while a writer appends ${x.downRate.toLocaleString("en-US")} lines/s (1 MB/s) to its file; the sidecar retries with backoff and does not read past what is unacknowledged, so the file is the buffer. RSS and anonymous memory from /proc/PID/smaps_rollup every second; "at 5 s" is after start-up. Then VictoriaLogs starts on that port: catch-up is from its start to the last line acknowledged, and it must hold every line written.`);
  out.push("");
  out.push("| output | lines written while down | RSS MiB at 5 s | RSS MiB peak | anonymous MiB at 5 s | anonymous MiB peak | catch-up s | lines stored |");
  out.push("|---|---|---|---|---|---|---|---|");
  for (const o of x.outage) {
    out.push(`| ${NAMES[o.sink]} | ${o.written.toLocaleString("en-US")} | ${o.rssStartMiB.toFixed(1)} | ${o.rssPeakMiB.toFixed(1)} | ${o.anonStartMiB.toFixed(1)} | ${o.anonPeakMiB.toFixed(1)} | ${o.catchUpS.toFixed(1)} | ${o.stored.toLocaleString("en-US")} |`);
  }
  return out.join("\n");
}

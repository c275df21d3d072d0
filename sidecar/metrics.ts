// Prometheus metrics over the plain counters in stats.ts, with prom-client imported only here and
// only when a port is given. Its own Registry: nothing leaks into or from the global one.
import { createServer, type Server } from "node:http";
import type { FileStats, Stats } from "./stats.ts";

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

type CounterKey = Exclude<keyof FileStats, "lagBytes">;

const COUNTERS: readonly { key: CounterKey; name: string; help: string }[] = [
  { key: "linesRead", name: "tailcar_sidecar_lines_read_total", help: "Lines read from followed files" },
  { key: "bytesRead", name: "tailcar_sidecar_read_bytes_total", help: "Bytes read from followed files" },
  { key: "linesWritten", name: "tailcar_sidecar_lines_written_total", help: "Lines acknowledged by the sink" },
  { key: "bytesWritten", name: "tailcar_sidecar_written_bytes_total", help: "Bytes acknowledged by the sink" },
  { key: "rotations", name: "tailcar_sidecar_rotations_total", help: "Switches to a new file at the followed path (rename+create, delete+recreate, symlink change)" },
  { key: "truncations", name: "tailcar_sidecar_truncations_total", help: "Truncations seen (copytruncate: each may have lost lines written between copy and truncate)" },
  { key: "truncatedUnreadBytes", name: "tailcar_sidecar_copytruncate_lost_bytes_total", help: "Bytes known to be in a file but unread when it was truncated (lower bound of copytruncate loss)" },
  { key: "longLinesSplit", name: "tailcar_sidecar_long_line_splits_total", help: "Pieces cut from lines longer than --max-line-bytes" },
];

export async function serveMetrics(stats: Stats, port: number): Promise<MetricsServer> {
  const prom = await import("prom-client");
  const registry = new prom.Registry();
  // prom-client counters only go up by inc(): feed each the growth since the last scrape.
  const lastSeen = new Map<string, number>();
  for (const c of COUNTERS) {
    new prom.Counter({
      name: c.name,
      help: c.help,
      labelNames: ["file"],
      registers: [registry],
      collect() {
        for (const [file, s] of stats.files) {
          const id = `${c.key}\0${file}`;
          this.inc({ file }, s[c.key] - (lastSeen.get(id) ?? 0));
          lastSeen.set(id, s[c.key]);
        }
      },
    });
  }
  new prom.Gauge({
    name: "tailcar_sidecar_lag_bytes",
    help: "Bytes in the followed file not yet acknowledged by the sink",
    labelNames: ["file"],
    registers: [registry],
    collect() {
      for (const [file, s] of stats.files) this.set({ file }, s.lagBytes);
    },
  });
  new prom.Gauge({
    name: "tailcar_sidecar_checkpoint_age_seconds",
    help: "Seconds since the last checkpoint was saved (-1 before the first)",
    registers: [registry],
    collect() {
      this.set(stats.lastCheckpointAt === undefined ? -1 : (Date.now() - stats.lastCheckpointAt) / 1000);
    },
  });
  new prom.Counter({
    name: "tailcar_sidecar_checkpoint_save_failures_total",
    help: "Checkpoint saves that failed (the checkpoint directory cannot be made or written); retried with backoff",
    registers: [registry],
    collect() {
      this.inc(stats.checkpointSaveFailures - (lastSeen.get("checkpointSaveFailures") ?? 0));
      lastSeen.set("checkpointSaveFailures", stats.checkpointSaveFailures);
    },
  });
  const server: Server = createServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end("not found: try /metrics\n");
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "content-type": registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500).end(`metrics failed: ${String(e)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => resolve());
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// Prometheus metrics over the plain counters in stats.ts, with prom-client imported only here and
// only when a port is given. Its own Registry: nothing leaks into or from the global one. The same
// port answers /readyz (health.ts), the readiness probe the injector gives a sidecar with metrics.
import { createServer, type Server } from "node:http";
import type { Registry } from "prom-client";
import { SIDECAR_METRIC_NAMES } from "../settings/sidecar-metric-names.ts";
import { METRICS_PATH, READY_PATH } from "../settings/sidecar-paths.ts";
import { readiness } from "./health.ts";
import type { SinkStats } from "./sinks/network-sink.ts";
import type { FileStats, Stats } from "./stats.ts";

export interface MetricsServer {
  readonly port: number;
  close(): Promise<void>;
}

type CounterKey = Exclude<keyof FileStats, "lagBytes" | "notFollowed" | "lookedAt">;

const COUNTERS: readonly { key: CounterKey; name: string; help: string }[] = [
  { key: "linesRead", name: "tailcar_sidecar_lines_read_total", help: "Lines read from followed files" },
  { key: "bytesRead", name: "tailcar_sidecar_read_bytes_total", help: "Bytes read from followed files" },
  { key: "linesWritten", name: "tailcar_sidecar_lines_written_total", help: "Lines acknowledged by the sink" },
  { key: "bytesWritten", name: "tailcar_sidecar_written_bytes_total", help: "Bytes acknowledged by the sink" },
  { key: "rotations", name: SIDECAR_METRIC_NAMES.rotations, help: "Switches to a new file at the followed path (rename+create, delete+recreate, symlink change)" },
  { key: "truncations", name: SIDECAR_METRIC_NAMES.truncations, help: "Truncations seen (copytruncate: each may have lost lines written between copy and truncate)" },
  { key: "truncatedUnreadBytes", name: SIDECAR_METRIC_NAMES.copytruncateLostBytes, help: "Bytes seen in a file but neither read nor found in a copy when it was truncated (exact when nothing was written after the last look, else a lower bound of copytruncate loss)" },
  { key: "longLinesSplit", name: "tailcar_sidecar_long_line_splits_total", help: "Pieces cut from lines longer than --max-line-bytes" },
  { key: "reclaimedBytes", name: SIDECAR_METRIC_NAMES.reclaimedBytes, help: "Bytes of the followed file, delivered and checkpointed, whose disk blocks --reclaim freed (punched holes; the file keeps its size)" },
  { key: "reclaimFailures", name: SIDECAR_METRIC_NAMES.reclaimFailures, help: "Punches --reclaim could not make (the filesystem cannot punch holes, no write permission, no fallocate): nothing freed, nothing lost; the log says why" },
];

type SinkCounterKey = "requests" | "failedRequests" | "authFailures" | "credentialErrors" | "tlsFailures" | "linesDropped";

const SINK_COUNTERS: readonly { key: SinkCounterKey; name: string; help: string }[] = [
  { key: "requests", name: "tailcar_sidecar_sink_requests_total", help: "Requests sent to the backend (forwarding sinks)" },
  { key: "failedRequests", name: "tailcar_sidecar_sink_failed_requests_total", help: "Requests the backend did not fully acknowledge (each is retried or split)" },
  { key: "authFailures", name: "tailcar_sidecar_sink_auth_failures_total", help: "Requests the backend answered 401/403: wrong credentials or permissions; the lines stay in the file and are retried" },
  { key: "credentialErrors", name: "tailcar_sidecar_sink_credential_errors_total", help: "Attempts not made because the credential or TLS files (--auth-dir, --ca-file, --cert-file, --key-file) could not be read or used; the lines stay in the file" },
  { key: "tlsFailures", name: "tailcar_sidecar_sink_tls_failures_total", help: "Requests that failed in TLS: the backend's certificate not trusted by the CA bundle, or the client certificate refused; the lines stay in the file" },
  { key: "linesDropped", name: "tailcar_sidecar_sink_dropped_lines_total", help: "Lines the backend rejected for their content, dropped" },
];

/** The network sink's counters, when forwarding; labelled by sink only (never by URL: it may hold credentials). */
export interface SinkMetricsSource {
  readonly sink: string;
  readonly stats: Readonly<SinkStats>;
}

/**
 * Serves /readyz and /metrics on `port`. It listens before prom-client is loaded (about 0.5 s of
 * a loaded machine), so that kubelet's first readiness probe, asked as soon as the container runs,
 * finds it answering; /metrics waits for the registry. Resolves once both are served.
 */
export async function serveMetrics(stats: Stats, port: number, sink?: SinkMetricsSource): Promise<MetricsServer> {
  let registry: Promise<Registry> | undefined;
  const server: Server = createServer((req, res) => {
    if (req.url === READY_PATH) {
      const r = readiness(stats);
      res.writeHead(r.ready ? 200 : 503, { "content-type": "application/json" }).end(`${JSON.stringify(r)}\n`);
      return;
    }
    if (req.url !== METRICS_PATH) {
      res.writeHead(404).end(`not found: try ${METRICS_PATH} or ${READY_PATH}\n`);
      return;
    }
    (registry ?? Promise.reject(new Error("not loaded yet")))
      .then(async (r) => {
        const text = await r.metrics();
        res.writeHead(200, { "content-type": r.contentType }).end(text);
      })
      .catch((e: unknown) => res.writeHead(500).end(`metrics failed: ${String(e)}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => resolve());
  });
  registry = newRegistry(stats, sink);
  try {
    await registry;
  } catch (e) {
    server.close();
    throw e;
  }
  const address = server.address();
  return {
    port: typeof address === "object" && address ? address.port : port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function newRegistry(stats: Stats, sink: SinkMetricsSource | undefined): Promise<Registry> {
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
        // A file a glob let go has no series any more: dated files would otherwise add series for good.
        for (const id of lastSeen.keys()) {
          const [key, file] = id.split("\0") as [string, string];
          if (key !== c.key || stats.files.has(file)) continue;
          this.remove({ file });
          lastSeen.delete(id);
        }
      },
    });
  }
  if (sink !== undefined) {
    const { sink: name, stats: counts } = sink;
    for (const c of SINK_COUNTERS) {
      let last = 0;
      new prom.Counter({
        name: c.name,
        help: c.help,
        labelNames: ["sink"],
        registers: [registry],
        collect() {
          this.inc({ sink: name }, counts[c.key] - last);
          last = counts[c.key];
        },
      });
    }
  }
  new prom.Gauge({
    name: SIDECAR_METRIC_NAMES.lagBytes,
    help: "Bytes in the followed file not yet acknowledged by the sink",
    labelNames: ["file"],
    registers: [registry],
    collect() {
      this.reset(); // only the files followed now (a glob lets files go)
      for (const [file, s] of stats.files) this.set({ file }, s.lagBytes);
    },
  });
  new prom.Gauge({
    name: SIDECAR_METRIC_NAMES.fileNotFollowed,
    help: "1 while no file is read for the path, with the reason: missing, followed-elsewhere, directory, fifo, socket, device, pseudo-file, not-regular, or the errno of the open (EACCES, ...)",
    labelNames: ["file", "reason"],
    registers: [registry],
    collect() {
      // Only current reasons: a path that is followed again, or waits for another reason, drops its old sample.
      this.reset();
      for (const [file, s] of stats.files) if (s.notFollowed !== undefined) this.set({ file, reason: s.notFollowed }, 1);
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
  return registry;
}

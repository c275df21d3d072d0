// `tailcar sidecar`: follow files, write their lines to stdout (or a backend), checkpoint, and
// shut down cleanly on SIGTERM. stdout carries only log data; diagnostics are JSON lines on stderr.
import type { SidecarConfig } from "./config.ts";
import { log } from "./log.ts";
import type { MetricsServer, SinkMetricsSource } from "./metrics.ts";
import { handedSettings, handOver, RELAUNCHED_ENV, nodeFlagsFor, relaunchFlags } from "./node-flags.ts";
import type { Sink } from "./sink.ts";
import type { Stats } from "./stats.ts";
import type { Transform } from "./transform.ts";
// Imported when needed, not here: the settings engine (config.ts), which a re-executed sidecar does
// not load since its predecessor hands it the parsed settings (about 1 MiB of RSS at idle), and the
// tailer and the stdout sink, which a process about to be replaced should not load first.

async function helpText(): Promise<string> {
  const [{ renderHelp }, { SIDECAR_ROWS }, { bool }, { setting }] = await Promise.all([
    import("../settings/help.ts"),
    import("../settings/sidecar-rows.ts"),
    import("../settings/kinds.ts"),
    import("../settings/row.ts"),
  ]);
  // --help is not a setting of the contract (SIDECAR_ROWS), but is shown like one, in the same columns.
  const help = setting("help", bool, false, "show this help", { flag: "--help", short: "h" });
  return [
    "Usage: tailcar sidecar --file PATH [--file PATH ...] [options]",
    "",
    "Follows files like `tail -n+1 -F` with nothing lost or doubled across rotation, truncation and",
    "restarts, and writes their lines to stdout (diagnostics go to stderr as JSON lines).",
    "Every option can also be set by its environment variable; flags win.",
    "",
    "Options:",
    renderHelp(SIDECAR_ROWS, { env: true }),
    renderHelp([help]),
    "",
  ].join("\n");
}

async function transformFactory(config: SidecarConfig): Promise<((file: string) => Transform) | undefined> {
  if (config.format === "raw" && config.prefixFileName) {
    const { PrefixTransform } = await import("./transform-prefix.ts");
    return (file) => new PrefixTransform(file);
  }
  if (config.format === "raw") return undefined; // raw bytes go straight to the sink: no copy, no transform
  if (config.sink === "stdout") {
    const { createTransform } = await import("./transform.ts");
    return (file) => createTransform(config, file);
  }
  // Forwarded records are timed by offset, so a replay after a crash sends the same records.
  const { createTimedTransform } = await import("./transform-timed.ts");
  return (file) => createTimedTransform(config, file);
}

interface Output {
  readonly sink: Sink;
  close(): void;
  /** Is a write still waiting for a reader that does not read? */
  blocked(): boolean;
  /** The network sink's counters for --metrics-port; undefined for stdout. */
  readonly metrics?: SinkMetricsSource;
}

async function createOutput(config: SidecarConfig): Promise<Output> {
  if (config.sink === "stdout") {
    const { FdSink } = await import("./fd-sink.ts");
    const sink = new FdSink(1);
    return { sink, close: () => undefined, blocked: () => sink.pending > 0 };
  }
  const { createSink } = await import("./sinks/index.ts");
  const sink = createSink(config);
  if (!sink) throw new Error(`--sink ${config.sink}: no such sink`);
  return { sink, close: () => sink.close(), blocked: () => false, metrics: { sink: config.sink, stats: sink.stats } };
}

/**
 * Replaces this process with one running under the Node flags the settings call for (node-flags.ts),
 * unless it already does; returns only when it stays. The same pid, so signals and the container's
 * main process are unchanged; stdin, stdout and stderr are kept. The replacement gets the settings
 * parsed here in its environment, so it reads them once checked and never loads the engine.
 */
function relaunchForFlags(config: SidecarConfig): void {
  const flags = relaunchFlags(nodeFlagsFor(config), process.execArgv, process.env);
  if (flags === undefined || process.execve === undefined) return; // no execve on Windows
  try {
    process.execve(process.execPath, [process.execPath, ...flags, ...process.argv.slice(1)], { ...process.env, [RELAUNCHED_ENV]: handOver(config, process.pid) });
  } catch (e) {
    log("warn", "could not re-execute with the Node flags for these settings: running with the ones it has", { flags: flags.join(" "), error: (e as Error).message });
  }
}

/**
 * The metrics and readiness server, or undefined when its port cannot be had (EADDRINUSE: a port
 * another container of the pod listens on without declaring it): the files are still streamed, and
 * the error says why the readiness probe fails.
 */
async function startMetrics(stats: Stats, port: number, sink: SinkMetricsSource | undefined): Promise<MetricsServer | undefined> {
  const [{ serveMetrics }, { METRICS_PATH, READY_PATH }] = await Promise.all([import("./metrics.ts"), import("../settings/sidecar-paths.ts")]);
  try {
    const metrics = await serveMetrics(stats, port, sink);
    log("info", "serving metrics", { port: metrics.port, path: METRICS_PATH, ready: READY_PATH });
    return metrics;
  } catch (e) {
    log("error", "cannot serve metrics: streaming without them (the readiness probe fails)", { port, error: (e as Error).message });
    return undefined;
  }
}

export async function run(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(await helpText());
    return 0;
  }
  let config: SidecarConfig;
  try {
    config = handedSettings(process.env, process.pid) ?? (await import("./config.ts")).parseSidecarConfig(argv, process.env);
  } catch (e) {
    if (!(e instanceof Error) || e.name !== "SettingsError") throw e;
    process.stderr.write(`tailcar sidecar: ${e.message}\n`);
    return 2;
  }
  relaunchForFlags(config);
  const output = await createOutput(config);
  const { startTailer } = await import("./tailer.ts");
  const tailer = await startTailer({
    config,
    sink: output.sink,
    transformFor: await transformFactory(config),
    countLines: config.metricsPort !== undefined,
  });
  const metrics = config.metricsPort === undefined ? undefined : await startMetrics(tailer.stats, config.metricsPort, output.metrics);
  const onSignal = (signal: NodeJS.Signals): void => {
    log("info", "stopping: reading the files to their end, then saving checkpoints", { signal, drainTimeoutMs: config.drainTimeoutMs });
    tailer.stop();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
  const { reason, drained, saved } = await tailer.done;
  process.off("SIGTERM", onSignal);
  process.off("SIGINT", onSignal);
  const code = reason === "error" ? 1 : 0;
  log("info", "stopped", { reason, drained, saved });
  // What stdout did not take is not in the checkpoint, so a restart sends it. A write parked in a
  // blocked stdout, or a checkpoint save stuck in the filesystem, cannot be abandoned (a pool
  // thread holds it): exit would wait for it, so the process ends itself, at once (the checkpoint
  // holds what stdout took up to now: nothing else may run in between, not even the metrics close).
  if ((!drained && output.blocked()) || !saved) {
    const why = saved ? "stdout is still blocked after the drain timeout" : "a checkpoint save is still stuck after the drain timeout";
    log("warn", `${why}: ending the process with SIGKILL (what stdout did not take is not in the checkpoint, a restart sends it)`);
    process.kill(process.pid, "SIGKILL");
  }
  await metrics?.close();
  output.close();
  if (!drained) process.exit(code);
  return code;
}

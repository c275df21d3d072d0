// The node-level collector of manifests/examples/otel-collector, run as the DaemonSet's pod would run
// on the real node: the OpenTelemetry Collector built from localcluster/backend/otel-collector, with the
// example's collector.yaml as it is, in the node's network namespace, and in a mount namespace of
// its own where the kubelet's podLogsDir is /var/log/pods (the DaemonSet's hostPath mount).
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pollUntil, sleep, startProcess, type ManagedProcess } from "./harness/index.ts";
import { kubeletPaths, withPrivateFolders } from "./kubelet-config.ts";
import { inNetns } from "./netns.ts";
import type { RealNode } from "./node.ts";
import { EXAMPLE_COLLECTOR_CONFIG, otelCollectorBinary } from "./backend/otel-collector.ts";

/** The collector's own line once its pipelines run. */
const READY = "Everything is ready. Begin running and processing data.";
/** The filelog receiver's poll_interval (its default): a file created after one poll is read from its first line. */
const POLL_INTERVAL_MS = 200;

export interface NodeCollector {
  readonly process: ManagedProcess;
  stop(): Promise<void>;
}

/** `logsEndpoint`: the OTLP/HTTP logs URL as seen from inside the node's network namespace. */
export async function startNodeCollector(node: RealNode, logsEndpoint: string): Promise<NodeCollector> {
  const binary = otelCollectorBinary();
  const dir = mkdtempSync(join(tmpdir(), "tailcar-otelcol-"));
  // /var/log/pods does not exist on the machine: a folder of the run stands for the node's /var/log.
  const varLog = join(dir, "var-log");
  mkdirSync(join(varLog, "pods"), { recursive: true });
  const own = withPrivateFolders([[varLog, "/var/log"], [kubeletPaths(node.dir).podLogsDir, "/var/log/pods"]], binary, [`--config=file:${EXAMPLE_COLLECTOR_CONFIG}`]);
  const cmd = inNetns(node.netns, own.command, own.args);
  const proc = startProcess({
    name: "otel-collector",
    command: cmd.command,
    args: cmd.args,
    logPath: join(dir, "otel-collector.log"),
    // What the DaemonSet's env gives it (fieldRef spec.nodeName, and the backend's URL).
    env: { PATH: process.env.PATH, K8S_NODE_NAME: node.nodeName, LOGS_ENDPOINT: logsEndpoint },
  });
  const stop = async (): Promise<void> => {
    await proc.stop(10_000);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pollUntil("the OpenTelemetry Collector to run its pipelines", async () => (proc.logTail(200).includes(READY) ? true : undefined), {
      timeoutMs: 30_000,
      intervalMs: 100,
      abortIf: () => (proc.hasExited() ? `the collector exited: ${proc.logTail()}` : undefined),
    });
    // Its first poll has seen the files already there (read from their end): what comes next is new.
    await sleep(5 * POLL_INTERVAL_MS);
  } catch (e) {
    await stop();
    throw e;
  }
  return { process: proc, stop };
}

// A real OpenTelemetry Collector for the node-level collector proof and bench: main.go in
// localcluster/backend/otel-collector/ (filelog receiver, resource and batch processors, OTLP/HTTP exporter,
// pinned by its go.mod/go.sum), built once by build.sh and cached in the user's cache directory.

import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "otel-collector", "build.sh");

/** manifests/examples/otel-collector/collector.yaml: the configuration the example's DaemonSet mounts. */
export const EXAMPLE_COLLECTOR_CONFIG = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "manifests", "examples", "otel-collector", "collector.yaml");

let binary: string | undefined;

/** The collector binary: $TAILCAR_OTELCOL if set, else built (first time) by build.sh. */
export function otelCollectorBinary(): string {
  if (binary !== undefined) return binary;
  const given = process.env.TAILCAR_OTELCOL;
  if (given) return (binary = given);
  // stderr inherited: the first build takes minutes, and its progress should show.
  const res = spawnSync("sh", [BUILD_SCRIPT], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 30 * 60_000 });
  const path = res.stdout?.trim().split("\n").at(-1);
  if (res.status !== 0 || !path) throw new Error(`building the OpenTelemetry Collector failed (exit ${res.status}): run ${BUILD_SCRIPT} to see why`);
  return (binary = path);
}

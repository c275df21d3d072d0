// A real OpenTelemetry Collector for the node-level collector proof and bench: main.go in
// localcluster/backend/otel-collector/ (filelog receiver, resource and batch processors, OTLP/HTTP exporter,
// pinned by its go.mod/go.sum), built once by build.sh and cached in the user's cache directory.

import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { builtBinary } from "./go-binary.ts";

const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "otel-collector", "build.sh");

/** manifests/examples/otel-collector/collector.yaml: the configuration the example's DaemonSet mounts. */
export const EXAMPLE_COLLECTOR_CONFIG = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "manifests", "examples", "otel-collector", "collector.yaml");

/** The collector binary: $TAILCAR_OTELCOL if set, else built (first time) by build.sh. */
export function otelCollectorBinary(): string {
  return builtBinary(BUILD_SCRIPT, "TAILCAR_OTELCOL", "the OpenTelemetry Collector", 30 * 60_000);
}

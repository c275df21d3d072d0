// What the tests run on the project's own files: helm (the chart), actionlint (the GitHub workflows),
// promql-parse (the alerts' and dashboard's PromQL), each built once from the Go module pinned in its
// folder (build.sh, through backend/go-cached-build.sh) and cached in the user cache dir, or taken
// from an environment variable; and the Prometheus Operator's CRDs (monitoring objects), copied
// from the module pinned in theirs.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { builtBinary } from "../backend/go-binary.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** helm: $TAILCAR_HELM if set, else built (first time) by tools/helm/build.sh. */
export function helmBinary(): string {
  return builtBinary(join(here, "helm", "build.sh"), "TAILCAR_HELM", "helm", 30 * 60_000);
}

/** actionlint: $TAILCAR_ACTIONLINT if set, else built (first time) by tools/actionlint/build.sh. */
export function actionlintBinary(): string {
  return builtBinary(join(here, "actionlint", "build.sh"), "TAILCAR_ACTIONLINT", "actionlint", 10 * 60_000);
}

/**
 * The folder holding the Prometheus Operator's ServiceMonitor, PodMonitor and PrometheusRule CRDs:
 * $TAILCAR_PROMETHEUS_OPERATOR_CRDS if set, else copied (first time) from the module pinned in
 * tools/prometheus-operator-crds by its fetch.sh.
 */
export function prometheusOperatorCrds(): string {
  return builtBinary(join(here, "prometheus-operator-crds", "fetch.sh"), "TAILCAR_PROMETHEUS_OPERATOR_CRDS", "the Prometheus Operator's CRDs", 10 * 60_000);
}

/** promql-parse: $TAILCAR_PROMQL_PARSE if set, else built (first time) by tools/promql-parse/build.sh. */
export function promqlParseBinary(): string {
  return builtBinary(join(here, "promql-parse", "build.sh"), "TAILCAR_PROMQL_PARSE", "promql-parse", 20 * 60_000);
}

// The Helm chart's monitoring objects, copied from manifests/monitoring (the one place they are
// written) into the chart's files/, since Helm reads no file outside the chart. `npm run
// docs:settings` writes the copies; test/docs-tables.test.ts fails when they and the originals
// disagree. templates/monitoring.yaml renders them when monitoring.enabled is true.
import { parse } from "yaml";

export const MONITORING_DIR = "manifests/monitoring/";
export const CHART_MONITORING_DIR = "manifests/helm/tailcar/files/monitoring/";
/** The dashboard's JSON, which the kustomization turns into a ConfigMap and the chart's template too. */
export const DASHBOARD = "dashboards/tailcar.json";

/** The files the chart carries (under CHART_MONITORING_DIR) → the original's path, from the kustomization's resources and the dashboard. */
export function monitoringCopies(kustomization: string): Map<string, string> {
  const resources = (parse(kustomization) as { resources?: unknown }).resources;
  if (!Array.isArray(resources) || !resources.every((r) => typeof r === "string" && /^[\w.-]+\.yaml$/.test(r))) {
    throw new Error(`${MONITORING_DIR}kustomization.yaml: resources must be a list of YAML files in the folder, for the chart to copy them`);
  }
  const copies = new Map<string, string>();
  for (const r of resources as string[]) copies.set(`${CHART_MONITORING_DIR}${r}`, `${MONITORING_DIR}${r}`);
  copies.set(`${CHART_MONITORING_DIR}${DASHBOARD.split("/").at(-1)}`, `${MONITORING_DIR}${DASHBOARD}`);
  return copies;
}

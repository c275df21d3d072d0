// Loki push (JSON): one stream per batch, labelled with the pod and file; nanosecond timestamps
// strictly increasing, so the lines keep their file order in Loki and VictoriaLogs.

import type { LineSource, LogLine } from "./records.ts";

export const LOKI_PUSH_PATH = "/loki/api/v1/push";

/** Stream labels: few and stable (Loki indexes them), never per-line values. */
export function lokiLabels(source: LineSource): Record<string, string> {
  const labels: Record<string, string> = { job: "tailcar", file: source.file };
  const pod = source.pod;
  if (pod.podNamespace !== undefined) labels.namespace = pod.podNamespace;
  if (pod.podName !== undefined) labels.pod = pod.podName;
  if (pod.containerName !== undefined) labels.container = pod.containerName;
  if (pod.nodeName !== undefined) labels.node = pod.nodeName;
  return labels;
}

/** The push body for `lines` of one source. */
export function pushBody(lines: readonly LogLine[], source: LineSource): string {
  const values = lines.map((l) => `["${l.timeNs}",${JSON.stringify(l.text)}]`).join(",");
  return `{"streams":[{"stream":${JSON.stringify(lokiLabels(source))},"values":[${values}]}]}`;
}

// A running pod's sidecars: the container's state from the pod status, and, when the sidecar serves
// metrics, how it follows its file (lag, rotations, copytruncate losses, why a path is not followed).
import { SIDECAR_METRIC_NAMES } from "../../settings/sidecar-metric-names.ts";
import { fail, ok, skip, warn, type CheckResult } from "./result.ts";

export interface ContainerStatusView {
  readonly name: string;
  readonly ready?: boolean;
  readonly restartCount?: number;
  readonly state?: { readonly running?: unknown; readonly waiting?: { readonly reason?: string; readonly message?: string }; readonly terminated?: { readonly reason?: string; readonly exitCode?: number } };
  readonly lastState?: { readonly terminated?: { readonly reason?: string; readonly exitCode?: number } };
}

export interface PodRef {
  readonly group: string;
  readonly namespace: string;
  readonly name: string;
}

export function checkSidecarState(pod: PodRef, sidecar: string, status: ContainerStatusView | undefined, phase: string | undefined): CheckResult {
  const id = "sidecar-state";
  const logs = `kubectl -n ${pod.namespace} describe pod ${pod.name}; kubectl -n ${pod.namespace} logs ${pod.name} -c ${sidecar} --previous`;
  if (status === undefined) return skip(pod.group, id, `sidecar ${sidecar}: no container status yet (pod ${phase ?? "phase unknown"}: not scheduled or not started)`);
  const { waiting, terminated } = status.state ?? {};
  if (waiting !== undefined) return fail(pod.group, id, `sidecar ${sidecar} is waiting: ${waiting.reason ?? "no reason given"}${waiting.message ? ` (${waiting.message})` : ""}`, logs);
  if (terminated !== undefined) return fail(pod.group, id, `sidecar ${sidecar} has stopped: ${terminated.reason ?? "no reason given"}, exit code ${terminated.exitCode ?? "?"}`, logs);
  const restarts = status.restartCount ?? 0;
  const last = status.lastState?.terminated;
  if (last?.reason === "OOMKilled") return warn(pod.group, id, `sidecar ${sidecar} runs, restarted ${restarts} times, the last after it ran out of memory (OOMKilled)`, "raise its memory limit with the pod annotation tailcar.io/memory-limit (docs/annotations.md)");
  if (restarts > 0) return warn(pod.group, id, `sidecar ${sidecar} runs, restarted ${restarts} times (last: ${last?.reason ?? "?"}, exit code ${last?.exitCode ?? "?"})`, logs);
  return ok(pod.group, id, `sidecar ${sidecar} runs${status.ready === false ? " (not ready)" : ""}, no restarts`);
}

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const unescape = (text: string): string => text.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));

/** Samples of the Prometheus text format; comments and lines that do not parse are skipped. */
export function parseMetrics(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = unescape(l[2]!);
    const value = Number(m[3]);
    if (!Number.isNaN(value)) samples.push({ name: m[1]!, labels, value });
  }
  return samples;
}

/** What the sidecar's metrics say of one file. `metrics` is the /metrics text, or why it could not be read. */
export function checkSidecarMetrics(pod: PodRef, sidecar: string, path: string, metrics: { readonly text?: string; readonly note?: string }): CheckResult {
  const id = "sidecar-metrics";
  if (metrics.text === undefined) return skip(pod.group, id, `${path}: sidecar metrics not read: ${metrics.note ?? "unknown reason"}`);
  const samples = parseMetrics(metrics.text).filter((s) => s.labels["file"] === path);
  const value = (name: string): number | undefined => samples.find((s) => s.name === name)?.value;
  const notFollowed = samples.find((s) => s.name === SIDECAR_METRIC_NAMES.fileNotFollowed && s.value === 1)?.labels["reason"];
  if (samples.length === 0) return skip(pod.group, id, `${path}: the metrics of sidecar ${sidecar} have no series for this file`);
  if (notFollowed === "missing") {
    return warn(pod.group, id, `${path}: sidecar ${sidecar} waits for the file, which does not exist yet`, "the app has not written it yet, or writes somewhere else: compare the path in tailcar.io/files with the app's configuration");
  }
  if (notFollowed !== undefined) {
    return fail(pod.group, id, `${path}: sidecar ${sidecar} cannot follow the file: ${notFollowed}`, notFollowed === "EACCES" ? "the sidecar's user may not read it: see the access check above" : `see the reason in kubectl -n ${pod.namespace} logs ${pod.name} -c ${sidecar}`);
  }
  const lost = value(SIDECAR_METRIC_NAMES.copytruncateLostBytes) ?? 0;
  const reclaimed = value(SIDECAR_METRIC_NAMES.reclaimedBytes) ?? 0;
  const reclaimFailures = value(SIDECAR_METRIC_NAMES.reclaimFailures) ?? 0;
  const state = `lag ${value(SIDECAR_METRIC_NAMES.lagBytes) ?? "?"} bytes, ${value(SIDECAR_METRIC_NAMES.rotations) ?? "?"} rotations, ${value(SIDECAR_METRIC_NAMES.truncations) ?? "?"} truncations, ${lost} bytes lost to copytruncate${reclaimed > 0 ? `, ${reclaimed} bytes reclaimed` : ""}`;
  if (lost > 0) return warn(pod.group, id, `${path}: ${state}`, "rotate by renaming (logrotate's create, not copytruncate): lines written between copy and truncate are lost by design");
  if (reclaimFailures > 0) {
    return warn(pod.group, id, `${path}: ${state}; ${reclaimFailures} reclaim punches failed (nothing freed, nothing lost)`, `see why in kubectl -n ${pod.namespace} logs ${pod.name} -c ${sidecar} (a line starting "reclaim:"): the filesystem cannot punch holes, the sidecar may not write the file, or its image has no util-linux fallocate`);
  }
  return ok(pod.group, id, `${path}: followed by sidecar ${sidecar}: ${state}`);
}

// pod → pod + warnings, pure: the reverse of inject(). What injection added is what its
// tailcar.io/status annotation records: the sidecars (init containers in native mode, containers
// in classic mode), the volumes (the checkpoint emptyDir and the log emptyDirs), the app
// containers' mounts of those volumes, the annotation itself, and the sidecar-metrics label.
// Everything else is the user's and stays, tailcar.io/files included. A status that disagrees with
// the pod (a sidecar removed by hand) removes what is there and warns about the rest. Like inject(),
// the input is never mutated and the result copies only the objects on the paths it changes.
import { STATUS_ANNOTATION } from "./annotations.ts";
import { CHECKPOINT_VOLUME_BASE, parseInjectStatus } from "./inject.ts";
import { METRICS_LABEL } from "./metrics-ports.ts";
import { isRecord, type Container, type Pod, type PodSpec, type Volume } from "./pod-types.ts";
import { LOG_VOLUME_BASE } from "./volumes.ts";

export const UNINJECT_SKIP_REASONS = {
  "not-a-pod": "the object is not a Pod",
  "not-injected": `it carries no ${STATUS_ANNOTATION} annotation (not injected by tailcar)`,
  "unreadable-status": `its ${STATUS_ANNOTATION} annotation is not what tailcar writes ({"version", "containers": [names], "volumes": [names]})`,
  "malformed-pod": "the pod spec is malformed (no containers list, or entries that are not objects)",
  "every-container": `its ${STATUS_ANNOTATION} annotation names every container of the pod as a sidecar`,
} as const;
export type UninjectSkipReason = keyof typeof UNINJECT_SKIP_REASONS;

export interface UninjectResult {
  /** The pod without what injection added, or the input itself when nothing was removed. */
  pod: Pod;
  /** Names of the sidecar containers removed. */
  removed: string[];
  warnings: string[];
  skipped?: UninjectSkipReason;
}

const isList = (value: unknown): value is Record<string, unknown>[] => Array.isArray(value) && value.every(isRecord);

function wellFormedSpec(spec: unknown): spec is PodSpec {
  if (!isRecord(spec) || !isList(spec.containers)) return false;
  if (spec.initContainers !== undefined && !isList(spec.initContainers)) return false;
  if (spec.volumes !== undefined && !isList(spec.volumes)) return false;
  return [...spec.containers, ...(spec.initContainers ?? [])].every((c) => c.volumeMounts === undefined || isList(c.volumeMounts));
}

/** The names tailcar gives its volumes: tailcar-logs, tailcar-checkpoints, with -2, -3… when taken. */
const TAILCAR_VOLUME = new RegExp(`^(${LOG_VOLUME_BASE}|${CHECKPOINT_VOLUME_BASE})(-[0-9]+)?$`);

/**
 * The volumes to remove from an old status that does not list them: the emptyDirs with tailcar's
 * names that the removed sidecars mount (a volume of the app's that a sidecar shares is not one).
 */
function volumesOfSidecars(sidecars: readonly Container[], volumes: readonly Volume[]): string[] {
  const mounted = new Set(sidecars.flatMap((c) => (c.volumeMounts ?? []).map((m) => m.name)));
  return volumes.filter((v) => mounted.has(v.name) && TAILCAR_VOLUME.test(v.name) && isRecord(v.emptyDir)).map((v) => v.name);
}

function skip(pod: Pod, skipped: UninjectSkipReason): UninjectResult {
  return { pod, removed: [], warnings: [], skipped };
}

/** `the sidecar "a"`, `the sidecars "a", "b"`. */
const named = (what: string, names: readonly string[]): string => `the ${what}${names.length > 1 ? "s" : ""} ${names.map((n) => JSON.stringify(n)).join(", ")}`;

export function uninject(pod: Pod): UninjectResult {
  if (!isRecord(pod) || (pod.kind !== undefined && pod.kind !== "Pod")) return skip(pod, "not-a-pod");
  const annotations: Record<string, unknown> = isRecord(pod.metadata) && isRecord(pod.metadata.annotations) ? pod.metadata.annotations : {};
  const text = annotations[STATUS_ANNOTATION];
  if (text === undefined) return skip(pod, "not-injected");
  const status = typeof text === "string" ? parseInjectStatus(text) : undefined;
  if (status === undefined) return skip(pod, "unreadable-status");
  if (!wellFormedSpec(pod.spec)) return skip(pod, "malformed-pod");
  const warnings: string[] = [];

  // Sidecars, from either list (a name is unique across both).
  const listed = new Set(status.containers);
  const isSidecar = (c: Container): boolean => listed.has(c.name);
  const sidecars = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].filter(isSidecar);
  if (pod.spec.containers.every(isSidecar)) return skip(pod, "every-container");
  const removed = sidecars.map((c) => c.name);
  const missing = status.containers.filter((name) => !removed.includes(name));
  if (missing.length > 0) warnings.push(`${STATUS_ANNOTATION} lists ${named("sidecar", missing)}, which the pod does not have (removed by hand?); removed the rest`);

  const volumes = pod.spec.volumes ?? [];
  let added = status.volumes;
  if (added === undefined) {
    added = volumesOfSidecars(sidecars, volumes);
    warnings.push(`${STATUS_ANNOTATION} lists no volumes (written by tailcar ${String(status.version)}, before it recorded them): removed the emptyDirs the sidecars mount with tailcar's names${added.length > 0 ? ` (${added.map((n) => JSON.stringify(n)).join(", ")})` : ""}`);
  }
  const absent = added.filter((name) => !volumes.some((v) => v.name === name));
  if (absent.length > 0) warnings.push(`${STATUS_ANNOTATION} lists ${named("volume", absent)}, which the pod does not have (removed by hand?)`);
  // A volume a container that stays (other than through injection's app mounts) still needs is kept.
  const remainingInit = (pod.spec.initContainers ?? []).filter((c) => !isSidecar(c));
  const stillNeeded = added.filter((name) => remainingInit.some((c) => (c.volumeMounts ?? []).some((m) => m.name === name)));
  if (stillNeeded.length > 0) warnings.push(`${named("volume", stillNeeded)} that injection added ${stillNeeded.length > 1 ? "are" : "is"} mounted by an init container that stays; kept`);
  const gone = new Set(added.filter((name) => !stillNeeded.includes(name)));

  const spec: PodSpec = { ...pod.spec };
  spec.containers = pod.spec.containers.filter((c) => !isSidecar(c)).map((app) => {
    const mounts = app.volumeMounts?.filter((m) => !gone.has(m.name));
    if (mounts === undefined || mounts.length === app.volumeMounts!.length) return app;
    const { volumeMounts: _all, ...rest } = app;
    return mounts.length > 0 ? { ...rest, volumeMounts: mounts } : rest;
  });
  // Lists injection created are removed when it leaves them empty.
  if (pod.spec.initContainers !== undefined) {
    if (remainingInit.length > 0) spec.initContainers = remainingInit;
    else delete spec.initContainers;
  }
  if (pod.spec.volumes !== undefined) {
    const kept = volumes.filter((v) => !gone.has(v.name));
    if (kept.length > 0) spec.volumes = kept;
    else delete spec.volumes;
  }

  const { [STATUS_ANNOTATION]: _status, ...rest } = annotations;
  const metadata = { ...pod.metadata, annotations: rest as Record<string, string> };
  // The label injection put on a pod whose sidecars serve metrics; a map it created goes with it.
  if (isRecord(metadata.labels) && Object.hasOwn(metadata.labels, METRICS_LABEL)) {
    const { [METRICS_LABEL]: _label, ...labels } = metadata.labels;
    if (Object.keys(labels).length > 0) metadata.labels = labels;
    else delete metadata.labels;
  }
  return { pod: { ...pod, metadata, spec }, removed, warnings };
}

// pod → pod + warnings, pure. A fixed pipeline (as vault-k8s does): is it a pod we should touch →
// read the annotations → name the sidecars → share the volumes → build the containers → mark the
// pod. The input is never mutated and nothing here throws on odd input (but absurd nesting).
// Rather than a deep clone, the result copies only the objects on the paths injection changes
// (metadata, annotations, spec, its container lists, volumes, and the app containers that gain a
// mount) and shares the rest with the input: that is cheaper, and the diff skips shared subtrees
// by reference (docs/decisions.md).
import { INJECT_LABEL, PREFIX, STATUS_ANNOTATION, type PodConfig } from "./annotations.ts";
import { claimName, nameFromPath } from "./container-name.ts";
import { FILES_ANNOTATION } from "./file-entries.ts";
import { planForwardVolumes } from "./forward-volumes.ts";
import { podConfigFor, sidecarFor } from "./memo.ts";
import { claimMetricsPort, METRICS_LABEL, METRICS_LABEL_VALUE, METRICS_PORT_BASE, takenPorts, type TakenPorts } from "./metrics-ports.ts";
import type { InjectOptions } from "./options.ts";
import { isRecord, type Container, type Pod, type PodSpec } from "./pod-types.ts";
import { reclaimOffWarning, reclaimProblem } from "./reclaim.ts";
import { sidecarUser } from "./security.ts";
import { SKIP_REASONS, type SkipReason } from "./skip-reasons.ts";
import { mountsBelow, planLogVolume, type VolumeChanges } from "./volumes.ts";
import { isGlob, mayHoldMatches, parseGlob } from "../settings/file-glob.ts";

/** The file a glob's root stands for when its volume is planned: any name directly in the root. */
const GLOB_STAND_IN = "*";

export { SKIP_REASONS, type SkipReason };

export const CHECKPOINT_VOLUME_BASE = "tailcar-checkpoints";

/** The circumstances of one injection, given by the caller so that inject() reads nothing itself. */
export interface InjectContext {
  /** The injector's version, written into the tailcar.io/status annotation. */
  readonly version: string;
  /** The request's namespace, for pods whose metadata has none (the API server fills it in later). */
  readonly namespace?: string;
}

export interface InjectResult {
  /**
   * The injected pod: a new object sharing every subtree injection did not change with the input
   * (treat both as read-only), or the input itself when nothing was injected. The input is never mutated.
   */
  pod: Pod;
  /** Names of the sidecar containers added. */
  injected: string[];
  warnings: string[];
  skipped?: SkipReason;
}

/**
 * What the tailcar.io/status annotation records: the injector's version, the sidecars (init
 * containers or containers) and the volumes it added (their mounts in the app containers are the
 * only mounts of them there), so that uninject() can remove exactly these.
 */
export interface InjectStatus {
  version: string;
  containers: string[];
  volumes: string[];
  /** Sidecars (tailcar.io/reclaim) that mount their log volume writable to free delivered blocks; absent when none. */
  reclaim?: string[];
}

/** A tailcar.io/status annotation as read back: `volumes` is absent from one written before injection recorded them. */
export type RecordedInjectStatus = Omit<InjectStatus, "volumes"> & { volumes: string[] | undefined };

const isNameList = (value: unknown): value is string[] => Array.isArray(value) && value.every((v) => typeof v === "string");

/** The tailcar.io/status annotation as inject() writes it (or wrote it before it listed volumes), or undefined when absent or not of that shape. */
export function parseInjectStatus(text: string | undefined): RecordedInjectStatus | undefined {
  if (text === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(value) || typeof value.version !== "string" || !isNameList(value.containers)) return undefined;
  if (value.volumes !== undefined && !isNameList(value.volumes)) return undefined;
  return { version: value.version, containers: value.containers, volumes: value.volumes };
}

function isContainerList(value: unknown): value is Container[] {
  return Array.isArray(value) && value.every((c) => isRecord(c) && typeof c.name === "string" && c.name !== ""
    && (c.volumeMounts === undefined || (Array.isArray(c.volumeMounts) && c.volumeMounts.every(isRecord))));
}

function wellFormedSpec(spec: unknown): spec is PodSpec {
  return isRecord(spec) && isContainerList(spec.containers) && spec.containers.length > 0
    && (spec.initContainers === undefined || isContainerList(spec.initContainers))
    && (spec.volumes === undefined || (Array.isArray(spec.volumes) && spec.volumes.every(isRecord)));
}

/** A metadata map's (labels', annotations') value for `key` when it is a string. */
function stringValue(map: unknown, key: string): string | undefined {
  if (!isRecord(map) || !Object.hasOwn(map, key)) return undefined;
  const value = map[key];
  return typeof value === "string" ? value : undefined;
}

/**
 * The tailcar.io/* annotations with string values: all that a pod's configuration is read from.
 * Only these are copied; a pod's other annotations (tens, from Helm, Argo CD, …) are never touched.
 */
function tailcarAnnotations(map: unknown): Record<string, string> {
  // No "__proto__" can start with the prefix, so a plain object is safe here.
  const out: Record<string, string> = {};
  if (!isRecord(map)) return out;
  for (const key in map) {
    if (!key.startsWith(PREFIX) || !Object.hasOwn(map, key)) continue;
    const value = map[key];
    if (typeof value === "string") out[key] = value;
  }
  return out;
}

/**
 * Nesting a pod may not exceed. inject() used to deep-clone its input, which threw past about 1,600
 * levels (the stack), and the webhook answers such a pod as an injection failure; without the clone
 * this limit keeps that behaviour, with a message that says what is wrong. Real pods nest ~15 deep.
 */
export const MAX_POD_DEPTH = 1000;

function nestedDeeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== "object" || value === null) return false;
  if (levels === 0) return true;
  if (Array.isArray(value)) return value.some((child) => nestedDeeperThan(child, levels - 1));
  // for…in allocates nothing (Object.values did, for every object of every pod).
  for (const key in value) {
    if (Object.hasOwn(value, key) && nestedDeeperThan((value as Record<string, unknown>)[key], levels - 1)) return true;
  }
  return false;
}

function skip(pod: Pod, skipped: SkipReason, warnings: string[] = []): InjectResult {
  return { pod, injected: [], warnings, skipped };
}

export function inject(pod: Pod, options: InjectOptions, context: InjectContext): InjectResult {
  if (!isRecord(pod) || (pod.kind !== undefined && pod.kind !== "Pod")) return skip(pod, "not-a-pod");
  if (nestedDeeperThan(pod, MAX_POD_DEPTH)) throw new RangeError(`the pod is nested more than ${MAX_POD_DEPTH} levels deep`);
  if (!wellFormedSpec(pod.spec)) return skip(pod, "malformed-pod");
  if (pod.metadata !== undefined && !isRecord(pod.metadata)) return skip(pod, "malformed-pod");
  if (stringValue(pod.metadata?.labels, INJECT_LABEL) === "false") return skip(pod, "opted-out-by-label");
  const annotations = tailcarAnnotations(pod.metadata?.annotations);
  if (annotations[STATUS_ANNOTATION] !== undefined) return skip(pod, "already-injected");

  if (annotations[FILES_ANNOTATION] === undefined) return skip(pod, "no-files-annotation", podConfigFor(annotations, options).warnings);
  // The webhook configuration's selectors leave these out too; this holds when they are edited.
  const namespace = [context.namespace, pod.metadata?.namespace].find((ns) => typeof ns === "string" && options.excludedNamespaces.includes(ns));
  if (namespace !== undefined) {
    return skip(pod, "excluded-namespace", [`annotation ${JSON.stringify(FILES_ANNOTATION)} ignored: pods in namespace ${JSON.stringify(namespace)} are never injected (excluded: ${options.excludedNamespaces.join(", ")})`]);
  }
  const { config, warnings } = podConfigFor(annotations, options);
  if (config.files.length === 0) return skip(pod, "no-valid-files", warnings);

  // The copy that injection may change; buildSidecars replaces the app containers it changes.
  const spec: PodSpec = { ...pod.spec, containers: [...pod.spec.containers] };
  const { sidecars, volumes, reclaim } = buildSidecars(spec, config, options, warnings);
  if (sidecars.length === 0) return skip(pod, "no-valid-files", warnings);
  if (options.sidecarMode === "native") spec.initContainers = [...(spec.initContainers ?? []), ...sidecars];
  else spec.containers.push(...sidecars);

  const injected = sidecars.map((c) => c.name);
  const status: InjectStatus = { version: context.version, containers: injected, volumes, ...(reclaim.length > 0 && { reclaim }) };
  // Spreading keeps the keys' order, and a key added here comes last, as an assignment would.
  const metadata = { ...pod.metadata };
  metadata.annotations = { ...(isRecord(metadata.annotations) ? metadata.annotations : {}), [STATUS_ANNOTATION]: JSON.stringify(status) };
  // What a PodMonitor selects the pods by: a selector matches labels only.
  if (sidecars.some((c) => c.ports !== undefined)) metadata.labels = { ...(isRecord(metadata.labels) ? metadata.labels : {}), [METRICS_LABEL]: METRICS_LABEL_VALUE };
  return { pod: { ...pod, metadata, spec }, injected, warnings };
}

/** Adds the volumes and app mounts to `spec` and returns the sidecars, in the annotation's order, and the volumes' names. */
function buildSidecars(spec: PodSpec, config: PodConfig, options: InjectOptions, warnings: string[]): { sidecars: Container[]; volumes: string[]; reclaim: string[] } {
  const apps = spec.containers;
  const takenNames = new Set([...apps, ...(spec.initContainers ?? [])].map((c) => c.name));
  const volumes = spec.volumes ?? [];
  const takenVolumes = new Set(volumes.map((v) => String(v.name)));
  // Explicit names first, so a derived name never takes a name the user asked for.
  const names = new Map<string, string>();
  for (const entry of config.files) {
    if (entry.name === undefined) continue;
    if (takenNames.has(entry.name)) {
      warnings.push(`invalid value ${JSON.stringify(`${entry.name}=${entry.path}`)} for annotation ${JSON.stringify(FILES_ANNOTATION)}: container name ${JSON.stringify(entry.name)} is taken; named with a suffix instead`);
      continue;
    }
    names.set(entry.path, claimName(entry.name, takenNames));
  }

  const metricsPorts = portsForMetrics(spec, config, warnings);
  const changes: VolumeChanges = { volumes: [], appMounts: [] };
  const checkpointVolume = claimName(CHECKPOINT_VOLUME_BASE, takenVolumes);
  const forward = planForwardVolumes(config, takenVolumes);
  const sidecars: Container[] = [];
  const reclaiming: string[] = [];
  for (const [i, entry] of config.files.entries()) {
    if (sidecars.length === options.maxSidecarsPerPod) {
      const rest = config.files.length - i;
      warnings.push(`annotation ${JSON.stringify(FILES_ANNOTATION)}: at most ${options.maxSidecarsPerPod} sidecars a pod (the webhook's --max-sidecars-per-pod); the last ${rest} ${rest === 1 ? "entry is" : "entries are"} ignored, from ${JSON.stringify(entry.path)} on`);
      break;
    }
    // A glob shares its root (the directory before its first wildcard) as a file shares its directory.
    const glob = isGlob(entry.path) ? parseGlob(entry.path) : undefined;
    const file = glob ? `${glob.root}/${GLOB_STAND_IN}` : entry.path;
    const plan = planLogVolume(file, apps, volumes, takenVolumes, changes, entry.path);
    if (plan.warning !== undefined) warnings.push(plan.warning);
    if (plan.sidecarMount === undefined) continue;
    if (glob) {
      for (const m of mountsBelow(apps, glob.root).filter((m) => mayHoldMatches(glob, m.mountPath.replace(/\/+$/, "")))) {
        warnings.push(`annotation ${JSON.stringify(FILES_ANNOTATION)}: the glob ${JSON.stringify(entry.path)} reaches into volume ${JSON.stringify(m.name)} at ${m.mountPath}, which its sidecar does not mount (it mounts the one over ${glob.root}): files there are not followed; list that directory as an entry of its own`);
      }
    }
    // Derived names only for entries that get a sidecar, so a refused entry takes no name; a glob
    // is named after its root directory (/var/log/app/*.log → app).
    const name = names.get(entry.path) ?? claimName(entry.name ?? nameFromPath(glob ? glob.root : entry.path), takenNames);
    const { user, warning } = sidecarUser(spec, plan.owner ?? apps[0], name);
    if (warning !== undefined) warnings.push(warning);
    const problem = config.reclaim ? reclaimProblem(spec, plan.owner ? [plan.owner] : apps, plan.ownerMount, user.runAsUser) : undefined;
    if (problem !== undefined) warnings.push(reclaimOffWarning(name, problem));
    const reclaim = config.reclaim && problem === undefined;
    if (reclaim) reclaiming.push(name);
    const metrics = metricsPorts && claimMetricsPort(metricsPorts);
    if (metricsPorts && metrics === undefined) warnings.push(`sidecar ${JSON.stringify(name)} serves no metrics: every port from ${METRICS_PORT_BASE} up is declared by the pod`);
    sidecars.push(sidecarFor({
      name,
      path: entry.path,
      config,
      // Writable only to punch holes: without reclaim the sidecar only reads.
      logMount: reclaim ? { ...plan.sidecarMount, readOnly: false } : plan.sidecarMount,
      checkpointVolume,
      ...user,
      native: options.sidecarMode === "native",
      ...(plan.env !== undefined && { extraEnv: plan.env }),
      ...(metrics !== undefined && { metricsPort: metrics.port }),
      ...(reclaim && { reclaim }),
      ...(forward.volumes.length > 0 && { forwardVolumes: forward.names }),
    }));
  }
  if (sidecars.length === 0) return { sidecars, volumes: [], reclaim: [] };
  for (const [i, app] of apps.entries()) {
    const mounts = changes.appMounts.filter((m) => !(app.volumeMounts ?? []).some((own) => own.mountPath === m.mountPath));
    if (mounts.length > 0) apps[i] = { ...app, volumeMounts: [...(app.volumeMounts ?? []), ...mounts.map((m) => ({ ...m }))] };
  }
  const added = [...changes.volumes, { name: checkpointVolume, emptyDir: { sizeLimit: options.checkpointVolumeSizeLimit } }, ...forward.volumes];
  spec.volumes = [...(spec.volumes ?? []), ...added];
  return { sidecars, volumes: added.map((v) => v.name), reclaim: reclaiming };
}

/**
 * The ports the sidecars' metrics ports must avoid, when they serve metrics; undefined when they do
 * not, or when the pod uses the node's network, where a port is shared with every process of the
 * node and no declaration in the pod says which are free.
 */
function portsForMetrics(spec: PodSpec, config: PodConfig, warnings: string[]): TakenPorts | undefined {
  if (!config.sidecarMetrics) return undefined;
  if (spec["hostNetwork"] === true) {
    warnings.push("sidecar metrics (tailcar.io/sidecar-metrics) left off: the pod uses the node's network (hostNetwork), where a port of the sidecars could collide with any process of the node");
    return undefined;
  }
  return takenPorts(spec);
}

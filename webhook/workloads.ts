// Finding the pods in a manifest: a Pod itself, the pod template of a workload, or the items of a
// List. Other kinds pass through untouched. Pure; used by `tailcar inject` and `tailcar uninject`.
import { inject } from "./inject.ts";
import type { InjectOptions } from "./options.ts";
import { isRecord, type Pod } from "./pod-types.ts";
import { SKIP_REASONS } from "./skip-reasons.ts";
import { uninject, UNINJECT_SKIP_REASONS } from "./uninject.ts";

export interface ManifestResult {
  object: unknown;
  /** Each prefixed with the object it is about, e.g. `Deployment/web: …`. */
  warnings: string[];
  /** Sidecars injected (or removed) in all. */
  changed: number;
}

/** One pod changed: warnings already prefixed with `label`, and the sidecars added or removed. */
type PodChange = (pod: Pod, label: string) => { pod: Pod; warnings: string[]; changed: number };

const TEMPLATE_PATH: Record<string, readonly string[]> = {
  Deployment: ["spec", "template"],
  StatefulSet: ["spec", "template"],
  DaemonSet: ["spec", "template"],
  ReplicaSet: ["spec", "template"],
  ReplicationController: ["spec", "template"],
  Job: ["spec", "template"],
  CronJob: ["spec", "jobTemplate", "spec", "template"],
};

function describe(object: Record<string, unknown>, fallback: string): string {
  const kind = typeof object.kind === "string" ? object.kind : "object";
  const meta = isRecord(object.metadata) ? object.metadata : {};
  if (typeof meta.name === "string") return `${kind}/${meta.name}`;
  if (typeof meta.generateName === "string") return `${kind}/${meta.generateName}*`;
  return `${kind} (${fallback})`;
}

const podOfTemplate = (template: Record<string, unknown>): Pod =>
  ({ apiVersion: "v1", kind: "Pod", ...(template.metadata !== undefined && { metadata: template.metadata as Pod["metadata"] }), spec: template.spec as Pod["spec"] });

/** Replaces the value at `path` in a copy of `object`, or returns undefined when the path is absent. */
function withTemplate(object: Record<string, unknown>, path: readonly string[], change: PodChange, label: string): ManifestResult | undefined {
  const copy = structuredClone(object);
  let parent: Record<string, unknown> = copy;
  for (const key of path.slice(0, -1)) {
    const next = parent[key];
    if (!isRecord(next)) return undefined;
    parent = next;
  }
  const last = path.at(-1)!;
  const template = parent[last];
  if (!isRecord(template)) return undefined;
  const result = change(podOfTemplate(template), label);
  if (result.changed === 0) return { object, warnings: result.warnings, changed: 0 };
  parent[last] = { ...template, metadata: result.pod.metadata, spec: result.pod.spec };
  return { object: copy, warnings: result.warnings, changed: result.changed };
}

/** `skipped`: how a warning says an object was not changed ("not injected"). */
function changePods(object: unknown, change: PodChange, skipped: string, where: string): ManifestResult {
  if (!isRecord(object)) return { object, warnings: [], changed: 0 };
  const label = describe(object, where);
  const kind = object.kind;
  if (kind === "Pod") {
    const result = change(object as Pod, label);
    return { object: result.changed > 0 ? result.pod : object, warnings: result.warnings, changed: result.changed };
  }
  if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(object.items)) {
    const warnings: string[] = [];
    let changed = 0;
    const items = object.items.map((item, i) => {
      const r = changePods(item, change, skipped, `${label} item ${i + 1}`);
      warnings.push(...r.warnings);
      changed += r.changed;
      return r.object;
    });
    return { object: changed > 0 ? { ...object, items } : object, warnings, changed };
  }
  const path = typeof kind === "string" ? TEMPLATE_PATH[kind] : undefined;
  if (path) return withTemplate(object, path, change, label) ?? { object, warnings: [`${label}: ${skipped}: no pod template at ${path.join(".")}`], changed: 0 };
  return { object, warnings: [], changed: 0 };
}

/** The pods a manifest object holds, each as a v1 Pod with the label warnings use (`Deployment/web`), as changePods finds them. */
export function manifestPods(object: unknown, where = "document"): { label: string; pod: Pod }[] {
  if (!isRecord(object)) return [];
  const label = describe(object, where);
  const kind = object.kind;
  if (kind === "Pod") return [{ label, pod: object as Pod }];
  if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(object.items)) {
    return object.items.flatMap((item, i) => manifestPods(item, `${label} item ${i + 1}`));
  }
  const path = typeof kind === "string" ? TEMPLATE_PATH[kind] : undefined;
  let template: unknown = object;
  for (const key of path ?? []) template = isRecord(template) ? template[key] : undefined;
  if (path === undefined || !isRecord(template)) return [];
  return [{ label, pod: podOfTemplate(template) }];
}

const NOT_INJECTED = "not injected";
const LEFT = "left as it is";

/** `version`: the injector's, for the tailcar.io/status annotation. */
export function injectManifest(object: unknown, options: InjectOptions, version: string, where = "document"): ManifestResult {
  return changePods(object, (pod, label) => {
    const result = inject(pod, options, { version });
    const warnings = result.warnings.map((w) => `${label}: ${w}`);
    if (result.skipped !== undefined && result.skipped !== "no-files-annotation") warnings.push(`${label}: ${NOT_INJECTED}: ${SKIP_REASONS[result.skipped]}`);
    return { pod: result.pod, warnings, changed: result.injected.length };
  }, NOT_INJECTED, where);
}

/** What injection added to the manifest's pods removed, by their tailcar.io/status annotations. */
export function uninjectManifest(object: unknown, where = "document"): ManifestResult {
  return changePods(object, (pod, label) => {
    const result = uninject(pod);
    const warnings = result.warnings.map((w) => `${label}: ${w}`);
    if (result.skipped !== undefined) warnings.push(`${label}: ${LEFT}: ${UNINJECT_SKIP_REASONS[result.skipped]}`);
    // A status that names no sidecar present still goes: the pod changed.
    return { pod: result.pod, warnings, changed: result.skipped === undefined ? Math.max(result.removed.length, 1) : 0 };
  }, LEFT, where);
}

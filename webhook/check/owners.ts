// The workload a pod belongs to, and how to get it new pods: what a fix for a pod without sidecars,
// or with old ones, says to do.

export interface OwnerReference {
  readonly kind: string;
  readonly name: string;
  readonly controller?: boolean;
}

export interface OwnedView {
  readonly metadata?: { readonly name?: string; readonly ownerReferences?: readonly OwnerReference[] };
}

export interface Workload {
  readonly kind: string;
  readonly name: string;
}

const controllerOf = (object: OwnedView | undefined): OwnerReference | undefined => object?.metadata?.ownerReferences?.find((r) => r.controller === true);

/** The top workload: a ReplicaSet's Deployment, a Job's CronJob, else the controller itself; undefined for a bare pod. */
export function ownerWorkload(pod: OwnedView, replicaSets: readonly OwnedView[], jobs: readonly OwnedView[]): Workload | undefined {
  const ref = controllerOf(pod);
  if (ref === undefined) return undefined;
  const parents = ref.kind === "ReplicaSet" ? replicaSets : ref.kind === "Job" ? jobs : [];
  const up = controllerOf(parents.find((p) => p.metadata?.name === ref.name));
  if (up !== undefined && ((ref.kind === "ReplicaSet" && up.kind === "Deployment") || (ref.kind === "Job" && up.kind === "CronJob"))) return { kind: up.kind, name: up.name };
  return { kind: ref.kind, name: ref.name };
}

const RESTARTABLE = new Set(["Deployment", "StatefulSet", "DaemonSet"]);

/** How to replace the pods of `owner` (or the bare pods) so that the webhook sees them created again. */
export function replaceAdvice(namespace: string, owner: Workload | undefined, pods: readonly string[]): string {
  if (owner === undefined) {
    return `recreate ${pods.length === 1 ? "pod" : "pods"} ${pods.join(", ")} from ${pods.length === 1 ? "its" : "their"} original manifest (kubectl -n ${namespace} delete pod ${pods.join(" ")}; kubectl apply -f FILE)`;
  }
  if (RESTARTABLE.has(owner.kind)) return `kubectl -n ${namespace} rollout restart ${owner.kind.toLowerCase()}/${owner.name}`;
  if (owner.kind === "CronJob") return `the next Job of CronJob ${owner.name} gets them; for a running one, delete its Job (kubectl -n ${namespace} delete job ...) and let the schedule create it again`;
  return `delete the pods and let ${owner.kind} ${owner.name} create them again: kubectl -n ${namespace} delete pod ${pods.join(" ")}`;
}

export const describeOwner = (owner: Workload | undefined): string => (owner === undefined ? "bare pods" : `${owner.kind} ${owner.name}`);

/** Pods grouped by their workload, in first-seen order. */
export function byOwner<P extends OwnedView>(pods: readonly P[], ownerOf: (pod: P) => Workload | undefined): { owner: Workload | undefined; pods: P[] }[] {
  const groups = new Map<string, { owner: Workload | undefined; pods: P[] }>();
  for (const pod of pods) {
    const owner = ownerOf(pod);
    const key = owner === undefined ? "" : `${owner.kind}/${owner.name}`;
    const group = groups.get(key) ?? { owner, pods: [] };
    group.pods.push(pod);
    groups.set(key, group);
  }
  return [...groups.values()];
}

// One namespace: does it opt in, which of its pods asked for sidecars but were admitted without the
// webhook (the webhook's own missed-pod rule, webhook/missed-pods.ts), and which run sidecars of
// another version than the webhook injects now.
import { NAMESPACE_LABEL, STATUS_ANNOTATION } from "../annotations.ts";
import { parseInjectStatus } from "../inject.ts";
import { findMissedPods, wouldInject, type NamespaceView, type ObjectMeta, type PodView } from "../missed-pods.ts";
import { CHECK_INJECT_OPTIONS } from "./inject-defaults.ts";
import { byOwner, describeOwner, replaceAdvice, type OwnerReference, type Workload } from "./owners.ts";
import { fail, ok, skip, warn, type CheckResult } from "./result.ts";

export interface NamespacedPod extends PodView {
  readonly metadata?: ObjectMeta & { readonly ownerReferences?: readonly OwnerReference[] };
}

const groupOf = (namespace: string): string => `namespace ${namespace}`;

export function checkNamespaceLabel(name: string, ns: NamespaceView | undefined, excluded: readonly string[]): CheckResult {
  const group = groupOf(name);
  const id = "namespace-label";
  if (ns === undefined) return fail(group, id, `namespace ${name} not found`, "check the name and the kubeconfig context (--context)");
  const label = ns.metadata?.labels?.[NAMESPACE_LABEL];
  if (excluded.includes(name)) return warn(group, id, `namespace ${name} is never injected (excluded: ${excluded.join(", ")})`, "run the pods that need sidecars in another namespace");
  if (label === "enabled") return ok(group, id, `namespace ${name} is labelled ${NAMESPACE_LABEL}=enabled: its pods get sidecars unless labelled tailcar.io/inject=false`);
  const fix = `kubectl label namespace ${name} ${NAMESPACE_LABEL}=enabled --overwrite`;
  if (label === undefined) return warn(group, id, `namespace ${name} has no ${NAMESPACE_LABEL} label: only its pods labelled tailcar.io/inject=true get sidecars`, fix);
  return warn(group, id, `namespace ${name} is labelled ${NAMESPACE_LABEL}=${label}: none of its pods get sidecars`, fix);
}

const live = (pod: PodView): boolean => pod.metadata?.deletionTimestamp === undefined && pod.status?.phase !== "Succeeded" && pod.status?.phase !== "Failed";
const podNames = (pods: readonly PodView[]): string[] => pods.map((p) => p.metadata?.name ?? "?");

export function checkMissedPods(name: string, pods: readonly NamespacedPod[], ns: NamespaceView | undefined, excluded: readonly string[], ownerOf: (pod: NamespacedPod) => Workload | undefined): CheckResult[] {
  const group = groupOf(name);
  const id = "missed-injection";
  if (ns === undefined) return [];
  const missed = new Set(findMissedPods(pods, [ns], wouldInject(CHECK_INJECT_OPTIONS), excluded).map((p) => p.uid));
  const found = pods.filter((p) => missed.has(p.metadata?.uid ?? ""));
  if (found.length === 0) return [ok(group, id, "no pod that asks for sidecars was admitted without them")];
  return byOwner(found, ownerOf).map(({ owner, pods: some }) =>
    fail(group, id, `${describeOwner(owner)}: ${some.length} pod${some.length === 1 ? "" : "s"} (${podNames(some).join(", ")}) ask${some.length === 1 ? "s" : ""} for sidecars but ${some.length === 1 ? "was" : "were"} admitted without them (the webhook was down or not registered then)`,
      replaceAdvice(name, owner, podNames(some))));
}

export function checkVersionSkew(name: string, pods: readonly NamespacedPod[], webhookVersion: string | undefined, ownerOf: (pod: NamespacedPod) => Workload | undefined): CheckResult[] {
  const group = groupOf(name);
  const id = "sidecar-version";
  const injected = pods.filter(live).map((pod) => ({ pod, status: parseInjectStatus(pod.metadata?.annotations?.[STATUS_ANNOTATION]) })).filter((p) => p.status !== undefined);
  if (webhookVersion === undefined) return [skip(group, id, "sidecar versions not compared: the webhook's version is unknown (the dry-run admission did not pass)")];
  const old = injected.filter((p) => p.status!.version !== webhookVersion);
  if (old.length === 0) return [ok(group, id, `${injected.length} injected pod${injected.length === 1 ? "" : "s"}, all with sidecars of tailcar ${webhookVersion}, the webhook's version`)];
  return byOwner(old.map((p) => p.pod), ownerOf).map(({ owner, pods: some }) => {
    const versions = [...new Set(some.map((p) => parseInjectStatus(p.metadata?.annotations?.[STATUS_ANNOTATION])!.version))].join(", ");
    return fail(group, id, `${describeOwner(owner)}: ${podNames(some).join(", ")} run${some.length === 1 ? "s" : ""} sidecars of tailcar ${versions}; the webhook injects ${webhookVersion}`,
      replaceAdvice(name, owner, podNames(some)));
  });
}

// Why a pod was left alone: a fixed list (code → sentence) shared by warnings, logs, metric
// labels and responses, as linkerd's inject report does.
export type SkipReason =
  | "not-a-pod"
  | "malformed-pod"
  | "oversized-pod"
  | "opted-out-by-label"
  | "already-injected"
  | "excluded-namespace"
  | "no-files-annotation"
  | "no-valid-files";

export const SKIP_REASONS: Record<SkipReason, string> = {
  "not-a-pod": "the object is not a v1 Pod",
  "malformed-pod": "the pod has no spec.containers list with at least one named container",
  "oversized-pod": "the pod has more annotations, labels or volume mounts than the webhook reads (docs/webhook.md, \"Bounds\")",
  "opted-out-by-label": 'the pod is labelled tailcar.io/inject: "false"',
  "already-injected": "the pod already carries the tailcar.io/status annotation",
  "excluded-namespace": "the pod's namespace is never injected (kube-system and the webhook's own)",
  "no-files-annotation": "the pod has no tailcar.io/files annotation",
  "no-valid-files": "no entry of the tailcar.io/files annotation is valid",
};

// Cluster-wide defaults for injection. The webhook server reads them from its flags, environment
// or config file; `tailcar inject` from its flags. Per-pod annotations override some of them.
import { deepFreeze } from "./deep-freeze.ts";
import { packageVersion } from "./package-version.ts";

export type PullPolicy = "Always" | "IfNotPresent" | "Never";
export type SidecarMode = "native" | "classic";
export type DeliveryMode = "stream" | "forward";
export type ForwardSink = "elasticsearch" | "loki";

export interface ResourceOptions {
  requests: { cpu: string; memory: string };
  limits: { cpu?: string; memory: string };
}

export interface InjectOptions {
  image: string;
  imagePullPolicy: PullPolicy;
  /** The server resolves "auto" to one of these (from the API server's version) before calling inject. */
  sidecarMode: SidecarMode;
  /** stream: the sidecar writes the file to its stdout; forward: it ships it to a backend. */
  mode: DeliveryMode;
  format: "raw" | "json";
  /** Cluster default backend for mode=forward. */
  forwardSink?: ForwardSink;
  forwardEndpoint?: string;
  resources: ResourceOptions;
  /** sizeLimit of the emptyDir that holds the sidecars' checkpoints. */
  checkpointVolumeSizeLimit: string;
  /** Sidecars one pod may get; the entries past it are ignored with a warning. No annotation raises it. */
  maxSidecarsPerPod: number;
  /** Namespaces never injected, whatever the webhook configuration's selectors let through. */
  excludedNamespaces: readonly string[];
}

export const DEFAULT_IMAGE_REPOSITORY = "ghcr.io/tailcar/tailcar-sidecar";

/**
 * One sidecar a file: 20 sidecars request 960 Mi of memory (48 Mi each) and make an admission
 * response of 31 KB (1,000 made 1.5 MB); a pod naming more files is likelier a mistake than a layout.
 */
export const DEFAULT_MAX_SIDECARS_PER_POD = 20;
/** The most --max-sidecars-per-pod may be set to: 100 sidecars request 4.7 Gi and answer 152 KB. */
export const MAX_SIDECARS_PER_POD_CEILING = 100;

// Sized from measurements of an idle and a streaming Node 24 sidecar (RSS ≈ 43 MB idle, ≈ 57 MB
// after streaming 256 MiB, of which anonymous memory is 8–13 MB): the request covers the steady
// state so the scheduler counts it, the limit leaves headroom so it is not OOM-killed after days.
// No CPU limit by default: throttling a tailer only makes it fall behind.
export const DEFAULT_INJECT_OPTIONS: InjectOptions = deepFreeze({
  image: `${DEFAULT_IMAGE_REPOSITORY}:${packageVersion()}`,
  imagePullPolicy: "IfNotPresent",
  sidecarMode: "native",
  mode: "stream",
  format: "raw",
  resources: { requests: { cpu: "10m", memory: "48Mi" }, limits: { memory: "96Mi" } },
  checkpointVolumeSizeLimit: "8Mi",
  maxSidecarsPerPod: DEFAULT_MAX_SIDECARS_PER_POD,
  excludedNamespaces: ["kube-system", "tailcar-system"],
});

export const PULL_POLICIES: readonly PullPolicy[] = ["Always", "IfNotPresent", "Never"];
export const SIDECAR_MODES: readonly SidecarMode[] = ["native", "classic"];
export const DELIVERY_MODES: readonly DeliveryMode[] = ["stream", "forward"];
export const FORWARD_SINKS: readonly ForwardSink[] = ["elasticsearch", "loki"];

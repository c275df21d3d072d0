// Every injection setting, one row each: its kind, its cluster default, what it means, and where it
// comes from: the webhook's flag, TAILCAR_WEBHOOK_ variable and config key, the same flag of
// `tailcar inject`, and for the per-pod ones the tailcar.io/ annotation. The webhook's defaults,
// `tailcar inject` and the annotations are all read from these rows, with the same rules.
import { bool, checkedText, count, multiline, oneOf, quantity, sizeUpTo, url } from "../settings/kinds.ts";
import { named, optional, setting, type Row, type Sources, type ValuesOf } from "../settings/row.ts";
import { headerList, tenant } from "../settings/http-header.ts";
import { RECLAIM_STEP } from "../settings/sidecar-rows.ts";
import { formatSize } from "../settings/size.ts";
import { COMPRESSIONS, FORWARD_SINKS, OUTPUT_FORMATS, START_POSITIONS } from "../settings/vocabulary.ts";
import { MAX_FILES_CEILING } from "../settings/sidecar-rows.ts";
import { keyRef, objectName } from "./forward-refs.ts";
import { imageReferenceProblem } from "./image-reference.ts";
import { METRICS_LABEL, METRICS_PORT_BASE, METRICS_PORT_NAME_PREFIX } from "./metrics-ports.ts";

export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export const DELIVERY_MODES = ["stream", "forward"] as const;
export const SIDECAR_MODE_SETTINGS = ["native", "classic", "auto"] as const;
export const DEFAULT_IMAGE_REPOSITORY = "ghcr.io/tailcar/tailcar-sidecar";

/**
 * The sidecar image of an injector of `version`, when no image is set. The version is given by the
 * commands (they read it from package.json), so that loading these rows reads no file.
 */
export function defaultImage(version: string): string {
  return `${DEFAULT_IMAGE_REPOSITORY}:${version}`;
}

/**
 * One sidecar a file: 20 sidecars request 960 Mi of memory (48 Mi each) and make an admission
 * response of 31 KB (1,000 made 1.5 MB); a pod naming more files is likelier a mistake than a layout.
 */
export const DEFAULT_MAX_SIDECARS_PER_POD = 20;
/** The most --max-sidecars-per-pod may be set to: 100 sidecars request 4.7 Gi and answer 152 KB. */
export const MAX_SIDECARS_PER_POD_CEILING = 100;

const image = checkedText("image reference (`[registry[:port]/]name[:tag][@digest]`, name in lowercase)", "IMAGE", imageReferenceProblem);

/** A setting of the webhook and `tailcar inject`, and of one pod through `annotation`. */
const both = (key: string, annotation?: string, more: Sources = {}): Sources =>
  named(key, "TAILCAR_WEBHOOK_", { inject: true, ...(annotation !== undefined && { annotation: `tailcar.io/${annotation}` }), ...more });
/** A setting of one pod only, by its annotation. */
const podOnly = (annotation: string, more: Sources = {}): Sources => ({ annotation: `tailcar.io/${annotation}`, ...more });

// Resources sized from measurements of an idle and a streaming Node 24 sidecar (RSS ≈ 43 MB idle,
// ≈ 57 MB after streaming 256 MiB, of which anonymous memory is 8–13 MB): the request covers the
// steady state so the scheduler counts it, the limit leaves headroom so it is not OOM-killed after
// days. No CPU limit by default: throttling a tailer only makes it fall behind.
/** Settings a pod may change by annotation (the rest of its config are the cluster's values). */
export const POD_ROWS = [
  setting("mode", oneOf(DELIVERY_MODES), "stream", "stream: the file's lines go to the sidecar's stdout (kubectl logs); forward: shipped to a backend", both("mode", "mode", { example: "forward" })),
  setting("format", oneOf(OUTPUT_FORMATS), "raw", "raw: lines as written; json: one JSON object per line with time, file and pod metadata", both("format", "format", { example: "json" })),
  optional("multiline", multiline, "json format only: java, python, or a regular expression that starts a record (default off)", podOnly("multiline")),
  optional("from", oneOf(START_POSITIONS), "where to begin a file seen for the first time: start (like tail -n+1) or end (default start)", podOnly("from")),
  // A line is held whole while it is framed: a 4 MiB line peaked at 74 MB RSS in json format
  // (61 MB raw; 1 MiB: 59/54 MB), within the default 96Mi limit; 16 MiB peaked at 118 MB.
  optional("maxLineBytes", sizeUpTo(4 * 1024 * 1024), "lines longer than this are split, each piece marked", both("maxLineBytes", "max-line-bytes", { defaultText: "1Mi (the sidecar's)", example: "2Mi" })),
  optional("forwardSink", oneOf(FORWARD_SINKS), "backend for mode forward", both("forwardSink", "forward-sink", { example: "loki" })),
  optional("forwardEndpoint", url(), "backend base URL for mode forward; user:password@ in it is sent as basic auth and redacted from every message", both("forwardEndpoint", "forward-endpoint", { example: "https://loki.logging:3100" })),
  // Forwarding credentials and TLS from the pod's namespace, mounted into forward sidecars (docs/forwarding.md); the injector never reads them.
  optional("forwardAuthSecret", objectName, "Secret (in the pod's namespace) with the backend's credentials: keys username and password (basic auth) or token (bearer), and header.NAME keys (a header each); mounted into forward sidecars, which read it again when it changes", both("forwardAuthSecret", "forward-auth-secret", { example: "logs-backend" })),
  optional("forwardCa", keyRef, "CA bundle (PEM) the https endpoint's certificate must chain to, from a ConfigMap or Secret of the pod's namespace; instead of the built-in roots", both("forwardCa", "forward-ca", { example: "configmap/logs-ca/ca.crt" })),
  optional("forwardClientCertSecret", objectName, "kubernetes.io/tls Secret (keys tls.crt and tls.key) with the client certificate for backends that ask for one (mTLS)", both("forwardClientCertSecret", "forward-client-cert-secret", { example: "logs-client" })),
  optional("forwardTenant", tenant, "sent as X-Scope-OrgID: the Loki tenant", both("forwardTenant", "forward-tenant", { example: "team-a" })),
  optional("forwardHeaders", headerList, "extra request headers, Name=value (a secret value: a header.NAME key of the auth Secret instead)", both("forwardHeaders", "forward-headers", { example: "X-Team=shop" })),
  optional("forwardCompression", oneOf(COMPRESSIONS), "gzip: request bodies compressed (5-9x fewer bytes on access-log lines for 1.2-1.8x the sidecar's CPU a line)", both("forwardCompression", "forward-compression", { defaultText: "none (the sidecar's)", example: "gzip" })),
  // Unset: defaultImage(the injector's version), filled in by injectOptions (options.ts).
  optional("image", image, "sidecar image", both("image", "image", { defaultText: defaultImage("<tailcar version>"), example: "example.com/tailcar/sidecar:2" })),
  setting("imagePullPolicy", oneOf(PULL_POLICIES), "IfNotPresent", "sidecar imagePullPolicy", both("imagePullPolicy", "image-pull-policy", { example: "Always" })),
  setting("cpuRequest", quantity, "10m", "CPU request of each sidecar", both("cpuRequest", "cpu-request", { example: "20m" })),
  setting("memoryRequest", quantity, "48Mi", "memory request of each sidecar", both("memoryRequest", "memory-request", { example: "64Mi" })),
  optional("cpuLimit", quantity, "CPU limit of each sidecar (default none: throttling a tailer only makes it fall behind)", both("cpuLimit", "cpu-limit", { example: "500m" })),
  setting("memoryLimit", quantity, "96Mi", "memory limit of each sidecar", both("memoryLimit", "memory-limit", { example: "128Mi" })),
  setting("sidecarMetrics", bool, false, `each sidecar serves /metrics and /readyz on a port of its own (from ${METRICS_PORT_BASE} up, skipping every containerPort and hostPort the pod declares; named ${METRICS_PORT_NAME_PREFIX}PORT) with a readiness probe, and the pod gets the label ${METRICS_LABEL} for a PodMonitor (docs/sidecar.md)`, both("sidecarMetrics", "sidecar-metrics", { example: "true" })),
  setting("reclaim", bool, false, `bounded disk: each sidecar frees the disk blocks of its file's lines once delivered and checkpointed (punched holes, every ${formatSize(RECLAIM_STEP)}; the file keeps its size), so a file never rotated takes about its unread tail; the sidecar then mounts the log volume writable, which needs the app's runAsUser (docs/annotations.md, "Bounded disk")`, both("reclaim", "reclaim", { example: "true" })),
  // Globs in tailcar.io/files (settings/file-glob.ts): one sidecar follows every match.
  optional("maxFiles", count(1, MAX_FILES_CEILING), "files one sidecar follows at once at most (a glob's matches beyond it are not followed, with a warning naming them)", podOnly("max-files", { defaultText: "100 (the sidecar's)", example: "20" })),
  optional("prefixFileName", bool, "raw format: each line starts with its file's path and \": \" (tells a glob's files apart on stdout; json records carry it in \"file\")", podOnly("prefix-file-name", { defaultText: "false (the sidecar's)", example: "true" })),
] as const satisfies readonly Row[];

/** Settings of the whole cluster (or of one `tailcar inject` run): no annotation changes them. */
export const CLUSTER_ROWS = [
  setting("sidecarMode", oneOf(SIDECAR_MODE_SETTINGS), "auto", "native (init container with restartPolicy Always; Kubernetes >= 1.29), classic (an ordinary container), or auto: the webhook asks the API server's version (classic if unknown); tailcar inject, which has none to ask, takes native", both("sidecarMode", undefined, { example: "classic" })),
  setting("checkpointVolumeSizeLimit", quantity, "8Mi", "sizeLimit of the emptyDir that holds the sidecars' checkpoints", both("checkpointVolumeSizeLimit", undefined, { example: "16Mi" })),
  setting("maxSidecarsPerPod", count(1, MAX_SIDECARS_PER_POD_CEILING), DEFAULT_MAX_SIDECARS_PER_POD, "sidecars one pod may get (one a file); later entries of tailcar.io/files are ignored with a warning; no annotation raises it", both("maxSidecarsPerPod", undefined, { example: "2" })),
] as const satisfies readonly Row[];

export const INJECTION_ROWS = [...POD_ROWS, ...CLUSTER_ROWS] as const;

export type PodValues = ValuesOf<typeof POD_ROWS>;
export type InjectionValues = ValuesOf<typeof INJECTION_ROWS>;

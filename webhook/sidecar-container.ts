// One sidecar container for one file. The command is exactly `tailcar sidecar`; every setting is
// in the environment (the contract of settings/sidecar-rows.ts), so what runs in the pod can be
// rerun locally from the pod spec alone.
import { READY_PATH } from "../settings/sidecar-paths.ts";
import { POD_ENV, RECLAIM_STEP, toEnv, type SidecarSettings } from "../settings/sidecar-rows.ts";
import type { PodConfig } from "./annotations.ts";
import { CHECKPOINT_MOUNT_PATH } from "./file-entries.ts";
import { forwardFiles, forwardMounts, forwards, type ForwardVolumes } from "./forward-volumes.ts";
import { metricsPortName } from "./metrics-ports.ts";
import type { Container, EnvVar, VolumeMount } from "./pod-types.ts";
import { sidecarSecurityContext } from "./security.ts";

export const SIDECAR_COMMAND = ["tailcar", "sidecar"];

export interface SidecarSpec {
  name: string;
  path: string;
  config: PodConfig;
  logMount: VolumeMount;
  /** The checkpoint emptyDir, mounted at CHECKPOINT_MOUNT_PATH with the sidecar's name as subPath. */
  checkpointVolume: string;
  runAsUser: number;
  runAsGroup?: number;
  native: boolean;
  /** Variables copied from the app container (those its shared mount's subPathExpr uses). */
  extraEnv?: EnvVar[];
  /** The port the sidecar serves /metrics and /readyz on (tailcar.io/sidecar-metrics); undefined: none. */
  metricsPort?: number;
  /** tailcar.io/reclaim, where it can work (reclaim.ts): the sidecar frees delivered blocks; logMount is writable. */
  reclaim?: boolean;
  /** The volumes with the forwarding credentials and TLS material (forward-volumes.ts), when forwarding. */
  forwardVolumes?: ForwardVolumes;
}

/**
 * The probes of a sidecar that serves /readyz (docs/decisions.md, "Sidecar probes"). Readiness
 * is the only one a native sidecar gets: its startupProbe would hold back the app containers' start
 * until it passed, and block them for good if it never did. A classic sidecar also gets a startup
 * probe every second, so that its readiness is asked as soon as it has started (not a readiness
 * period later), and a slow start has a minute before kubelet restarts it. No liveness probe.
 */
function sidecarProbes(port: number, native: boolean): Pick<Container, "readinessProbe" | "startupProbe"> {
  // A new object each: one shared by both probes would be written as a YAML alias by tailcar inject.
  const get = () => ({ httpGet: { path: READY_PATH, port } });
  return {
    readinessProbe: { ...get(), periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 },
    ...(!native && { startupProbe: { ...get(), periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 60 } }),
  };
}

export function sidecarSettings(path: string, config: PodConfig, checkpointDir: string, metricsPort?: number, reclaim = false, forwardVolumes: ForwardVolumes = {}): SidecarSettings {
  const forward = forwards(config);
  return {
    files: [path],
    checkpointDir,
    format: config.format,
    ...(config.from !== undefined && { from: config.from }),
    ...(config.multiline !== undefined && { multiline: config.multiline }),
    ...(config.maxLineBytes !== undefined && { maxLineBytes: config.maxLineBytes }),
    ...(config.maxFiles !== undefined && { maxFiles: config.maxFiles }),
    ...(config.prefixFileName === true && { prefixFileName: true }),
    ...(metricsPort !== undefined && { metricsPort }),
    ...(reclaim && { reclaim: RECLAIM_STEP }),
    ...(forward && { sink: config.forwardSink, endpoint: config.forwardEndpoint }),
    ...(forward && forwardFiles(forwardVolumes)),
    ...(forward && config.forwardTenant !== undefined && { tenant: config.forwardTenant }),
    ...(forward && config.forwardHeaders !== undefined && { headers: config.forwardHeaders }),
    ...(forward && config.forwardCompression !== undefined && { compression: config.forwardCompression }),
  };
}

function fieldEnv(name: string, fieldPath: string): EnvVar {
  return { name, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath } } };
}

export function sidecarContainer(s: SidecarSpec): Container {
  const { config } = s;
  const env: EnvVar[] = [
    ...(s.extraEnv ?? []).filter((e) => !e.name.startsWith("TAILCAR_")),
    ...toEnv(sidecarSettings(s.path, s.config, CHECKPOINT_MOUNT_PATH, s.metricsPort, s.reclaim === true, s.forwardVolumes)),
    fieldEnv(POD_ENV.podName, "metadata.name"),
    fieldEnv(POD_ENV.podNamespace, "metadata.namespace"),
    fieldEnv(POD_ENV.nodeName, "spec.nodeName"),
    { name: POD_ENV.containerName, value: s.name },
  ];
  const limits: Record<string, string> = { memory: config.memoryLimit };
  if (config.cpuLimit !== undefined) limits.cpu = config.cpuLimit;
  return {
    name: s.name,
    image: s.config.image,
    imagePullPolicy: s.config.imagePullPolicy,
    command: [...SIDECAR_COMMAND],
    ...(s.metricsPort !== undefined && { ports: [{ name: metricsPortName(s.metricsPort), containerPort: s.metricsPort, protocol: "TCP" }] }),
    env,
    resources: { requests: { cpu: config.cpuRequest, memory: config.memoryRequest }, limits },
    securityContext: sidecarSecurityContext(s),
    volumeMounts: [s.logMount, { name: s.checkpointVolume, mountPath: CHECKPOINT_MOUNT_PATH, subPath: s.name }, ...forwardMounts(s.forwardVolumes ?? {})],
    ...(s.metricsPort !== undefined && sidecarProbes(s.metricsPort, s.native)),
    ...(s.native && { restartPolicy: "Always" }),
  };
}

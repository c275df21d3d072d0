// One sidecar container for one file. The command is exactly `tailcar sidecar`; every setting is
// in the environment (the contract of settings/sidecar-rows.ts), so what runs in the pod can be
// rerun locally from the pod spec alone.
import { POD_ENV, toEnv, type SidecarSettings } from "../settings/sidecar-rows.ts";
import type { PodConfig } from "./annotations.ts";
import { CHECKPOINT_MOUNT_PATH } from "./file-entries.ts";
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
}

export function sidecarSettings(path: string, config: PodConfig, checkpointDir: string): SidecarSettings {
  const forward = config.mode === "forward" && config.forwardSink !== undefined && config.forwardEndpoint !== undefined;
  return {
    files: [path],
    checkpointDir,
    format: config.format,
    ...(config.from !== undefined && { from: config.from }),
    ...(config.multiline !== undefined && { multiline: config.multiline }),
    ...(config.maxLineBytes !== undefined && { maxLineBytes: config.maxLineBytes }),
    ...(forward && { sink: config.forwardSink, endpoint: config.forwardEndpoint }),
  };
}

function fieldEnv(name: string, fieldPath: string): EnvVar {
  return { name, valueFrom: { fieldRef: { apiVersion: "v1", fieldPath } } };
}

export function sidecarContainer(s: SidecarSpec): Container {
  const { config } = s;
  const env: EnvVar[] = [
    ...(s.extraEnv ?? []).filter((e) => !e.name.startsWith("TAILCAR_")),
    ...toEnv(sidecarSettings(s.path, s.config, CHECKPOINT_MOUNT_PATH)),
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
    env,
    resources: { requests: { cpu: config.cpuRequest, memory: config.memoryRequest }, limits },
    securityContext: sidecarSecurityContext(s),
    volumeMounts: [s.logMount, { name: s.checkpointVolume, mountPath: CHECKPOINT_MOUNT_PATH, subPath: s.name }],
    ...(s.native && { restartPolicy: "Always" }),
  };
}

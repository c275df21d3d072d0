// Sharing a log file's directory with its sidecar. If an app container already mounts a volume at
// or above the file, the sidecar mounts the same volume (same subPath) read-only at the same path;
// otherwise an emptyDir is mounted at the file's directory in every app container and the sidecar.
import { posix } from "node:path";
import { claimName } from "./container-name.ts";
import { FILES_ANNOTATION } from "./file-entries.ts";
import { isRecord, type Container, type EnvVar, type Volume, type VolumeMount } from "./pod-types.ts";

export const LOG_VOLUME_BASE = "tailcar-logs";

/**
 * Directories an added emptyDir must never be at or below, at any depth: hiding any part of them
 * leaves a container that does not start or misbehaves (no CA certificates under /etc/ssl, no
 * binaries under /usr/local/bin, no sockets under /var/run, a hidden home directory).
 * docs/annotations.md lists them.
 */
export const SYSTEM_TREES: readonly string[] = [
  "/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32", "/proc", "/root",
  "/run", "/sbin", "/sys", "/usr", "/var/lib", "/var/run",
];
/** Directories an added emptyDir must not be exactly (their subdirectories, such as /var/log/app, may be). */
export const SYSTEM_DIRS: readonly string[] = ["/var"];
/**
 * Volume kinds whose files are credentials or cluster data: a log path inside one would mount it
 * into the sidecar and print it to the pod's logs. The API server's ServiceAccount admission adds the
 * token as a projected volume (kube-api-access-*) mounted at SERVICE_ACCOUNT_DIR.
 */
export const SECRET_VOLUME_KINDS: readonly string[] = ["secret", "configMap", "projected", "downwardAPI"];
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

export interface LogVolumePlan {
  /** The sidecar's read-only mount for the file, or undefined when the file was rejected. */
  sidecarMount?: VolumeMount;
  /** The app container whose mount is reused (for its user), if any. */
  owner?: Container;
  /** That container's mount, reused. */
  ownerMount?: VolumeMount;
  /** The owner's variables that the reused mount's subPathExpr refers to: the sidecar needs them too. */
  env?: EnvVar[];
  warning?: string;
}

export interface VolumeChanges {
  volumes: Volume[];
  /** Mounts to add to every app container. */
  appMounts: VolumeMount[];
}

/** Whether a mount at `mountPath` holds `file`. */
export function covers(mountPath: string, file: string): boolean {
  const dir = mountPath.length > 1 ? mountPath.replace(/\/+$/, "") : mountPath;
  return file === dir || file.startsWith(dir === "/" ? "/" : `${dir}/`);
}

const atOrBelow = (dir: string, top: string): boolean => dir === top || dir.startsWith(`${top}/`);

/** Why an emptyDir at `dir` would hide something the container needs ("an emptyDir …"), or undefined. */
function systemDirProblem(dir: string): string | undefined {
  // The API server's ServiceAccount admission runs before mutating webhooks, so the token's projected
  // volume is normally in the pod already (and refused by secretKind); without it (automount off,
  // or a pod sent by `tailcar inject`) an emptyDir here would still hide where a token belongs.
  const at = (top: string): string => (dir === top ? "an emptyDir would hide" : `an emptyDir at ${dir} would hide part of`);
  if (atOrBelow(dir, SERVICE_ACCOUNT_DIR)) return `${at(SERVICE_ACCOUNT_DIR)} the service account token's directory ${SERVICE_ACCOUNT_DIR}`;
  const tree = SYSTEM_TREES.find((top) => atOrBelow(dir, top)) ?? SYSTEM_DIRS.find((top) => dir === top);
  return tree === undefined ? undefined : `${at(tree)} the system directory ${tree}`;
}

/** The kind of a secret-like volume (secret, configMap, projected, downwardAPI), or undefined. */
function secretKind(volumes: readonly Volume[], name: string): string | undefined {
  const volume = volumes.find((v) => v.name === name);
  return volume === undefined ? undefined : SECRET_VOLUME_KINDS.find((kind) => isRecord(volume[kind]));
}

function coveringMount(containers: readonly Container[], file: string): { mount: VolumeMount; owner: Container } | undefined {
  let best: { mount: VolumeMount; owner: Container } | undefined;
  for (const owner of containers) {
    for (const mount of owner.volumeMounts ?? []) {
      if (typeof mount?.mountPath !== "string" || !covers(mount.mountPath, file)) continue;
      if (!best || mount.mountPath.length > best.mount.mountPath.length) best = { mount, owner };
    }
  }
  return best;
}

/**
 * Plans one mount per file. `changes` collects the emptyDirs to add (one per directory, shared by
 * every file in it) and `takenVolumes` the volume names in use, so names never collide.
 */
export function planLogVolume(
  file: string,
  containers: readonly Container[],
  volumes: readonly Volume[],
  takenVolumes: Set<string>,
  changes: VolumeChanges,
): LogVolumePlan {
  const found = coveringMount(containers, file);
  if (found) {
    const { mount, owner } = found;
    const kind = secretKind(volumes, mount.name);
    if (kind !== undefined) {
      return {
        warning: `invalid value ${JSON.stringify(file)} for annotation ${JSON.stringify(FILES_ANNOTATION)}: in the ${kind} volume ${JSON.stringify(mount.name)} (at ${mount.mountPath}), which the sidecar would print to its logs; entry ignored`,
      };
    }
    const sidecarMount: VolumeMount = { name: mount.name, mountPath: mount.mountPath, readOnly: true };
    if (mount.subPath !== undefined) sidecarMount.subPath = mount.subPath;
    if (mount.subPathExpr === undefined) return { sidecarMount, owner, ownerMount: mount };
    sidecarMount.subPathExpr = mount.subPathExpr;
    const used = new Set([...mount.subPathExpr.matchAll(/\$\(([^)]+)\)/g)].map((m) => m[1]));
    const env = (owner.env ?? []).filter((e) => used.has(e.name)).map((e) => structuredClone(e));
    return { sidecarMount, owner, ownerMount: mount, ...(env.length > 0 && { env }) };
  }
  const dir = posix.dirname(file);
  const problem = systemDirProblem(dir);
  if (problem !== undefined) {
    return {
      warning: `invalid value ${JSON.stringify(file)} for annotation ${JSON.stringify(FILES_ANNOTATION)}: no volume is mounted over it and ${problem}; entry ignored`,
    };
  }
  // An emptyDir already planned for another file may cover this one too.
  const planned = changes.appMounts.filter((m) => covers(m.mountPath, file)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
  if (planned) return { sidecarMount: { name: planned.name, mountPath: planned.mountPath, readOnly: true } };
  const name = claimName(LOG_VOLUME_BASE, takenVolumes);
  changes.volumes.push({ name, emptyDir: {} });
  changes.appMounts.push({ name, mountPath: dir });
  return {
    sidecarMount: { name, mountPath: dir, readOnly: true },
    warning: `annotation ${JSON.stringify(FILES_ANNOTATION)}: no volume mounted over ${file}; added emptyDir ${JSON.stringify(name)} at ${dir} in the app containers, hiding the image's ${dir}`,
  };
}

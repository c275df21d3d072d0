// Sharing a log file's directory with its sidecar. If an app container already mounts a volume at
// or above the file, the sidecar mounts the same volume (same subPath) read-only at the same path;
// otherwise an emptyDir is mounted at the file's directory in every app container and the sidecar.
import { posix } from "node:path";
import { claimName } from "./container-name.ts";
import { FILES_ANNOTATION } from "./file-entries.ts";
import type { Container, EnvVar, Volume, VolumeMount } from "./pod-types.ts";

export const LOG_VOLUME_BASE = "tailcar-logs";

// Directories an emptyDir must never hide: the container would not start or would be unusable.
const SYSTEM_DIRS = new Set(["/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/sbin", "/sys", "/usr", "/var", "/run"]);

export interface LogVolumePlan {
  /** The sidecar's read-only mount for the file, or undefined when the file was rejected. */
  sidecarMount?: VolumeMount;
  /** The app container whose mount is reused (for its user), if any. */
  owner?: Container;
  /** The owner's variables that the reused mount's subPathExpr refers to: the sidecar needs them too. */
  env?: EnvVar[];
  warning?: string;
}

export interface VolumeChanges {
  volumes: Volume[];
  /** Mounts to add to every app container. */
  appMounts: VolumeMount[];
}

function covers(mountPath: string, file: string): boolean {
  const dir = mountPath.length > 1 ? mountPath.replace(/\/+$/, "") : mountPath;
  return file === dir || file.startsWith(dir === "/" ? "/" : `${dir}/`);
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
  takenVolumes: Set<string>,
  changes: VolumeChanges,
): LogVolumePlan {
  const found = coveringMount(containers, file);
  if (found) {
    const { mount, owner } = found;
    const sidecarMount: VolumeMount = { name: mount.name, mountPath: mount.mountPath, readOnly: true };
    if (mount.subPath !== undefined) sidecarMount.subPath = mount.subPath;
    if (mount.subPathExpr === undefined) return { sidecarMount, owner };
    sidecarMount.subPathExpr = mount.subPathExpr;
    const used = new Set([...mount.subPathExpr.matchAll(/\$\(([^)]+)\)/g)].map((m) => m[1]));
    const env = (owner.env ?? []).filter((e) => used.has(e.name)).map((e) => structuredClone(e));
    return { sidecarMount, owner, ...(env.length > 0 && { env }) };
  }
  const dir = posix.dirname(file);
  if (SYSTEM_DIRS.has(dir)) {
    return {
      warning: `invalid value ${JSON.stringify(file)} for annotation ${JSON.stringify(FILES_ANNOTATION)}: no volume is mounted over it and an emptyDir would hide the system directory ${dir}; entry ignored`,
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

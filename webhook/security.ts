// The sidecar's securityContext: Pod Security "restricted", running as the app's user so it can
// read the app's files (fsGroup is pod-wide and applies to the sidecar by itself).
import type { Container, PodSpec, SecurityContext } from "./pod-types.ts";

/** Used when neither the app container nor the pod names a user: the conventional "nonroot" uid. */
export const DEFAULT_SIDECAR_UID = 65532;

/** A uid or gid as the API takes it (a non-negative integer), or undefined. */
export function integer(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

export interface SidecarUser {
  readonly runAsUser: number;
  readonly runAsGroup?: number;
}

/** The user the sidecar runs as: its app container's, else the pod's, else DEFAULT_SIDECAR_UID. */
export function sidecarUser(spec: PodSpec, app: Container | undefined, sidecarName: string): { user: SidecarUser; warning?: string } {
  const uid = integer(app?.securityContext?.runAsUser) ?? integer(spec.securityContext?.runAsUser) ?? DEFAULT_SIDECAR_UID;
  const gid = integer(app?.securityContext?.runAsGroup) ?? integer(spec.securityContext?.runAsGroup);
  const user = gid === undefined ? { runAsUser: uid } : { runAsUser: uid, runAsGroup: gid };
  if (uid !== 0) return { user };
  return {
    user,
    warning: `sidecar ${JSON.stringify(sidecarName)} runs as root (runAsUser 0) like its app, to read its files, so runAsNonRoot is false; capabilities are still dropped`,
  };
}

export function sidecarSecurityContext(user: SidecarUser): SecurityContext {
  return {
    runAsNonRoot: user.runAsUser !== 0,
    runAsUser: user.runAsUser,
    ...(user.runAsGroup !== undefined && { runAsGroup: user.runAsGroup }),
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

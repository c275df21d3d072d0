// The sidecar's securityContext: Pod Security "restricted", running as the app's user so it can
// read the app's files (fsGroup is pod-wide and applies to the sidecar by itself).
import type { Container, PodSpec, SecurityContext } from "./pod-types.ts";

/** Used when neither the app container nor the pod names a user: the conventional "nonroot" uid. */
export const DEFAULT_SIDECAR_UID = 65532;

function integer(value: unknown): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 ? value : undefined;
}

export function sidecarSecurityContext(
  spec: PodSpec,
  app: Container | undefined,
  sidecarName: string,
): { securityContext: SecurityContext; warning?: string } {
  const uid = integer(app?.securityContext?.runAsUser) ?? integer(spec.securityContext?.runAsUser);
  const gid = integer(app?.securityContext?.runAsGroup) ?? integer(spec.securityContext?.runAsGroup);
  const securityContext: SecurityContext = {
    runAsNonRoot: uid !== 0,
    runAsUser: uid ?? DEFAULT_SIDECAR_UID,
    ...(gid !== undefined && { runAsGroup: gid }),
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
  if (uid !== 0) return { securityContext };
  return {
    securityContext,
    warning: `sidecar ${JSON.stringify(sidecarName)} runs as root (runAsUser 0) like its app, to read its files, so runAsNonRoot is false; capabilities are still dropped`,
  };
}

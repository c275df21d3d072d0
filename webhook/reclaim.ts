// tailcar.io/reclaim: whether a sidecar can free the disk blocks its file's delivered lines take
// (sidecar/reclaim.ts). It opens the file for writing to punch holes, so it needs a writable mount
// of the log volume and the user that owns the file: the app's user, which the sidecar runs as
// (security.ts) when the pod spec names it. The mount is made writable only when all of that holds;
// otherwise reclaim is left off for that sidecar with a warning that says why, and the pod is
// admitted as without it.
import type { Container, PodSpec, VolumeMount } from "./pod-types.ts";
import { integer } from "./security.ts";

export const RECLAIM_ANNOTATION = "tailcar.io/reclaim";

/** The uid a container runs as, when its spec or the pod's says so (else its image's, unknown here). */
function uidOf(spec: PodSpec, container: Container): number | undefined {
  return integer(container.securityContext?.runAsUser) ?? integer(spec.securityContext?.runAsUser);
}

/**
 * Why the sidecar running as `sidecarUid` could not punch holes in a file that `writers` write
 * (the app containers mounting its volume; the first owns `ownerMount`), through `ownerMount` (the app's mount it shares, or
 * undefined for an emptyDir the injector adds); undefined when it can. Pure.
 */
export function reclaimProblem(spec: PodSpec, writers: readonly Container[], ownerMount: VolumeMount | undefined, sidecarUid: number): string | undefined {
  if (ownerMount?.readOnly === true) return `app container ${JSON.stringify(writers[0]?.name)} mounts volume ${JSON.stringify(ownerMount.name)} read-only at ${ownerMount.mountPath}`;
  const unknown = writers.filter((w) => uidOf(spec, w) === undefined).map((w) => w.name);
  if (unknown.length > 0) {
    const fsGroup = integer(spec.securityContext?.fsGroup) === undefined ? "" : " (fsGroup alone gives the files a group, which the usual umask 022 leaves without write permission)";
    return `app container ${unknown.map((n) => JSON.stringify(n)).join(", ")} runs as its image's user (no runAsUser in its or the pod's securityContext), so the sidecar cannot be given the user that owns the file${fsGroup}`;
  }
  const others = writers.filter((w) => uidOf(spec, w) !== sidecarUid);
  if (others.length > 0) return `app containers that mount the file's volume run as different users (${writers.map((w) => `${w.name}: ${uidOf(spec, w)}`).join(", ")}), and the sidecar runs as only one of them`;
  return undefined;
}

/** The warning for a sidecar whose reclaim is left off. */
export function reclaimOffWarning(sidecar: string, problem: string): string {
  return `annotation ${JSON.stringify(RECLAIM_ANNOTATION)}: left off for sidecar ${JSON.stringify(sidecar)}: ${problem}; its log volume stays read-only and nothing is freed`;
}

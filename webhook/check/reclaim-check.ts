// tailcar.io/reclaim in `tailcar check`: does a file's sidecar free its delivered disk blocks, and if
// the pod asks for it and it does not, why (the injector's own reason, webhook/reclaim.ts).
import { formatSize } from "../../settings/size.ts";
import type { SidecarValues } from "../../settings/sidecar-rows.ts";
import type { Container, PodSpec, VolumeMount } from "../pod-types.ts";
import { RECLAIM_ANNOTATION, reclaimProblem } from "../reclaim.ts";
import { covers } from "../volumes.ts";
import { fail, ok, warn, type CheckResult } from "./result.ts";

const ID = "file-reclaim";
const RECREATE = "recreate the pod so the webhook injects it again";

/**
 * The reclaim line for `path`, followed by `sidecar` through `mount`, written by `writers`; undefined
 * when the pod does not ask for reclaim and the sidecar does not do it (nothing to say).
 */
export function checkReclaim(group: string, spec: PodSpec, path: string, podAsks: boolean, sidecar: Container, settings: SidecarValues | undefined, mount: VolumeMount, writers: readonly Container[]): CheckResult | undefined {
  const step = settings?.reclaim;
  const name = sidecar.name;
  if (step !== undefined) {
    if (mount.readOnly === true) return fail(group, ID, `${path}: sidecar ${name} is set to reclaim (TAILCAR_RECLAIM) but mounts volume ${mount.name} read-only: every punch fails (EROFS), nothing is freed`, RECREATE);
    return ok(group, ID, `${path}: sidecar ${name} frees the file's delivered and checkpointed blocks every ${formatSize(step)}, through its writable mount of ${mount.name}`);
  }
  if (!podAsks) return undefined;
  const ownerMount = writers.flatMap((w) => (w.volumeMounts ?? []).filter((m) => m.name === mount.name && covers(m.mountPath, path)))[0];
  const uid = typeof sidecar.securityContext?.runAsUser === "number" ? sidecar.securityContext.runAsUser : undefined;
  const problem = uid === undefined ? "the sidecar has no runAsUser" : reclaimProblem(spec, writers, ownerMount, uid);
  if (problem === undefined) return warn(group, ID, `${path}: ${RECLAIM_ANNOTATION} is on but sidecar ${name} does not reclaim (injected before the pod asked, or by an older injector)`, RECREATE);
  return warn(group, ID, `${path}: ${RECLAIM_ANNOTATION} is on but sidecar ${name} does not reclaim: ${problem}; the file takes disk until it is rotated`,
    `name the app's user in the pod spec (runAsUser in the pod's or the app container's securityContext), mount the log volume writable in the app, then recreate the pod (docs/annotations.md, "Bounded disk")`);
}

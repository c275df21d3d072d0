// Can the sidecar read the file? Its user against the users of the app containers that mount the
// file's volume, from the pod's and the containers' securityContexts. The check cannot see the
// file's mode: it says when access rests on the file being readable to others (the usual umask
// 022 gives that; 027 and 077 do not), which is the case that breaks.
import type { Container, PodSpec, Volume } from "../pod-types.ts";
import { integer } from "../security.ts";

/** Volume kinds whose files the kubelet gives the pod's fsGroup (an emptyDir's directory is setgid to it). */
export const FS_GROUP_VOLUME_KINDS: readonly string[] = ["emptyDir", "persistentVolumeClaim", "ephemeral"];

export interface User {
  readonly uid?: number;
  readonly gid?: number;
}

/** The user a container runs as when its spec says so; undefined parts come from its image. */
export function userOf(spec: PodSpec, container: Container): User {
  const uid = integer(container.securityContext?.runAsUser) ?? integer(spec.securityContext?.runAsUser);
  const gid = integer(container.securityContext?.runAsGroup) ?? integer(spec.securityContext?.runAsGroup);
  return { ...(uid !== undefined && { uid }), ...(gid !== undefined && { gid }) };
}

export const volumeKind = (volume: Volume | undefined): string => Object.keys(volume ?? {}).find((k) => k !== "name") ?? "unknown";

export interface Access {
  readonly status: "ok" | "warn" | "fail";
  readonly message: string;
  readonly fix?: string;
}

const SAME_USER_FIX = "set runAsUser and runAsGroup in the pod's securityContext, so every container, the sidecar too, runs as one user; or set the pod's fsGroup (every container gets it as a supplementary group, and an emptyDir's new files get it as their group)";

/** The sidecar's access to a file on `volume` that `writers` (the app containers mounting it) may write. */
export function fileAccess(spec: PodSpec, sidecar: Container, writers: readonly Container[], volume: Volume | undefined): Access {
  const s = userOf(spec, sidecar);
  if (s.uid === undefined) return { status: "warn", message: `the sidecar ${sidecar.name} runs as its image's user (no runAsUser)`, fix: SAME_USER_FIX };
  const fsGroup = integer(spec.securityContext?.fsGroup);
  const fsGroupApplies = fsGroup !== undefined && FS_GROUP_VOLUME_KINDS.includes(volumeKind(volume));
  const given = spec.securityContext?.supplementalGroups;
  const supplemental = Array.isArray(given) ? given.map(integer) : [];
  const sidecarGroups = [s.gid, fsGroup, ...supplemental].filter((g): g is number => g !== undefined);
  const verdicts: Access[] = writers.map((w) => {
    const u = userOf(spec, w);
    if (u.uid !== undefined && u.uid === s.uid) return { status: "ok", message: `the sidecar runs as uid ${s.uid}, as app container ${w.name} does` };
    const fileGroup = fsGroupApplies ? fsGroup : u.gid;
    if (fileGroup !== undefined && sidecarGroups.includes(fileGroup)) {
      return { status: "ok", message: `the sidecar (uid ${s.uid}) shares group ${fileGroup} (${fsGroupApplies ? "the pod's fsGroup" : "runAsGroup"}) with what app container ${w.name} writes: readable while the app leaves group read on (umask 022 or 027)` };
    }
    const groups = sidecarGroups.length === 0 ? "no known group" : `group${sidecarGroups.length === 1 ? "" : "s"} ${sidecarGroups.join(", ")}`;
    if (u.uid === undefined) {
      return { status: "warn", message: `app container ${w.name} runs as its image's user (no runAsUser); the sidecar runs as uid ${s.uid} in ${groups}: it reads the file only if that user is ${s.uid} or the file is readable to others`, fix: SAME_USER_FIX };
    }
    return {
      status: "fail",
      message: `app container ${w.name} runs as uid ${u.uid}${u.gid === undefined ? "" : ` (group ${u.gid})`}, the sidecar as uid ${s.uid} in ${groups}${fsGroup !== undefined && !fsGroupApplies ? ` (fsGroup does not apply to a ${volumeKind(volume)} volume)` : ""}: it can read the file only if the file is readable to others (umask 022 gives that; 027 and 077 do not)`,
      fix: SAME_USER_FIX,
    };
  });
  if (verdicts.length === 0) return { status: "warn", message: "no app container mounts the file's volume at the file", fix: "mount the volume the sidecar reads in the app container that writes the file" };
  return verdicts.find((v) => v.status === "fail") ?? verdicts.find((v) => v.status === "warn") ?? verdicts[0]!;
}

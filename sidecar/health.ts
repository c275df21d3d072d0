// What /readyz answers (the injected readiness probe asks it): ready once every followed path has
// been looked at, whether a file is read there or the sidecar waits for one with a known reason.
// A missing or unreadable file is not "not ready": a probe failing for as long as the file is
// missing would take the app out of its Service's endpoints (the pod is Ready only when every
// container is), for a log file. That is said in the body, the tailcar_sidecar_file_not_followed
// gauge and stderr instead. Pure.
import type { Stats } from "./stats.ts";

export type PathState = { readonly file: string; readonly state: "starting" | "following" } | { readonly file: string; readonly state: "waiting"; readonly reason: string };

export interface Readiness {
  readonly ready: boolean;
  readonly files: readonly PathState[];
}

export function readiness(stats: Pick<Stats, "files">): Readiness {
  const files: PathState[] = [];
  for (const [file, s] of stats.files) {
    if (s.lookedAt === undefined) files.push({ file, state: "starting" });
    else if (s.notFollowed !== undefined) files.push({ file, state: "waiting", reason: s.notFollowed });
    else files.push({ file, state: "following" });
  }
  return { ready: files.every((f) => f.state !== "starting"), files };
}

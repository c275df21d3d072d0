// Whether the sidecar can read a file: its user and groups against the app containers' that mount it.
import assert from "node:assert/strict";
import { test } from "node:test";
import { fileAccess } from "../../../webhook/check/file-access.ts";
import type { Container, PodSpec, Volume } from "../../../webhook/pod-types.ts";

const c = (name: string, runAsUser?: number, runAsGroup?: number): Container =>
  ({ name, ...((runAsUser !== undefined || runAsGroup !== undefined) && { securityContext: { ...(runAsUser !== undefined && { runAsUser }), ...(runAsGroup !== undefined && { runAsGroup }) } }) });
const emptyDir: Volume = { name: "logs", emptyDir: {} };
const hostPath: Volume = { name: "logs", hostPath: { path: "/var/log/x" } };

test("the verdicts, one row each: same user, shared group by fsGroup or runAsGroup, a user from the image, a mismatch", () => {
  const cases: [string, PodSpec["securityContext"], Container, Container[], Volume, string, RegExp][] = [
    ["same uid", undefined, c("s", 1000), [c("app", 1000)], emptyDir, "ok", /runs as uid 1000, as app container app does/],
    ["pod-level uid", { runAsUser: 1000 }, c("s"), [c("app")], emptyDir, "ok", /uid 1000/],
    ["fsGroup on an emptyDir", { fsGroup: 3000 }, c("s", 1000), [c("app", 2000)], emptyDir, "ok", /shares group 3000 \(the pod's fsGroup\)/],
    ["fsGroup on a hostPath", { fsGroup: 3000 }, c("s", 1000), [c("app", 2000)], hostPath, "fail", /fsGroup does not apply to a hostPath volume/],
    ["runAsGroup shared", undefined, c("s", 1000, 500), [c("app", 2000, 500)], emptyDir, "ok", /shares group 500 \(runAsGroup\)/],
    ["supplementalGroups", { supplementalGroups: [500] }, c("s", 1000), [c("app", 2000, 500)], emptyDir, "ok", /shares group 500/],
    ["app user from its image", undefined, c("s", 65532), [c("app")], emptyDir, "warn", /runs as its image's user/],
    ["mismatch", undefined, c("s", 1000), [c("proxy", 1000), c("app", 2000)], emptyDir, "fail", /app container app runs as uid 2000, the sidecar as uid 1000 in no known group/],
    ["sidecar user unknown", undefined, c("s"), [c("app", 1000)], emptyDir, "warn", /sidecar s runs as its image's user/],
    ["no writer", undefined, c("s", 1000), [], emptyDir, "warn", /no app container mounts/],
  ];
  for (const [name, securityContext, sidecar, writers, volume, status, message] of cases) {
    const spec: PodSpec = { containers: writers, ...(securityContext && { securityContext }) };
    const access = fileAccess(spec, sidecar, writers, volume);
    assert.equal(access.status, status, name);
    assert.match(access.message, message, name);
    if (status !== "ok") assert.ok(access.fix, name);
  }
});

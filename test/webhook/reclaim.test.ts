// tailcar.io/reclaim's precondition: the sidecar can open the file for writing only as the user
// that owns it, through a writable mount. The golden cases reclaim and reclaim-cannot show the pods.
import assert from "node:assert/strict";
import { test } from "node:test";
import type { Container, PodSpec } from "../../webhook/pod-types.ts";
import { reclaimProblem } from "../../webhook/reclaim.ts";

const app = (name: string, runAsUser?: number): Container => ({ name, image: "x", ...(runAsUser !== undefined && { securityContext: { runAsUser } }) });

test("reclaim works when every app container sharing the file's volume runs as the sidecar's user, named in the spec", () => {
  const spec: PodSpec = { containers: [app("a", 1000)] };
  assert.equal(reclaimProblem(spec, spec.containers, { name: "logs", mountPath: "/var/log/a" }, 1000), undefined);
  const podUser: PodSpec = { securityContext: { runAsUser: 1000 }, containers: [app("a"), app("b")] };
  assert.equal(reclaimProblem(podUser, podUser.containers, undefined, 1000), undefined);
  const root: PodSpec = { securityContext: { runAsUser: 0 }, containers: [app("a")] };
  assert.equal(reclaimProblem(root, root.containers, undefined, 0), undefined, "root owns root's files");
});

test("reclaim is refused, with the reason, for an image's unnamed user, a read-only mount, or writers of different users", () => {
  const unnamed: PodSpec = { containers: [app("a")] };
  assert.match(reclaimProblem(unnamed, unnamed.containers, undefined, 65532)!, /app container "a" runs as its image's user/);
  const readOnly: PodSpec = { containers: [app("a", 1000)] };
  assert.match(reclaimProblem(readOnly, readOnly.containers, { name: "logs", mountPath: "/logs", readOnly: true }, 1000)!, /app container "a" mounts volume "logs" read-only at \/logs/);
  const mixed: PodSpec = { containers: [app("a", 1000), app("b", 2000)] };
  assert.match(reclaimProblem(mixed, mixed.containers, undefined, 1000)!, /run as different users \(a: 1000, b: 2000\)/);
});

// A running sidecar: its container state and what its metrics say of its file.
import assert from "node:assert/strict";
import { test } from "node:test";
import { checkSidecarMetrics, checkSidecarState, parseMetrics, type ContainerStatusView } from "../../../webhook/check/sidecar-state.ts";

const ref = { group: "pod shop/web", namespace: "shop", name: "web" };

test("container state: running passes, waiting or stopped fails, restarts warn (an OOM kill with the memory annotation), no status skips", () => {
  const cases: [ContainerStatusView | undefined, string, RegExp][] = [
    [{ name: "s", ready: true, restartCount: 0, state: { running: {} } }, "ok", /runs, no restarts/],
    [{ name: "s", state: { waiting: { reason: "ImagePullBackOff", message: "not found" } } }, "fail", /waiting: ImagePullBackOff \(not found\)/],
    [{ name: "s", state: { terminated: { reason: "Error", exitCode: 2 } } }, "fail", /stopped: Error, exit code 2/],
    [{ name: "s", restartCount: 3, state: { running: {} }, lastState: { terminated: { reason: "OOMKilled", exitCode: 137 } } }, "warn", /OOMKilled/],
    [{ name: "s", restartCount: 1, state: { running: {} }, lastState: { terminated: { reason: "Error", exitCode: 1 } } }, "warn", /restarted 1 times \(last: Error, exit code 1\)/],
    [undefined, "skip", /no container status yet \(pod Pending/],
  ];
  for (const [status, want, message] of cases) {
    const r = checkSidecarState(ref, "s", status, "Pending");
    assert.equal(r.status, want, String(message));
    assert.match(r.message, message);
  }
  assert.match(checkSidecarState(ref, "s", cases[3]![0], "Running").fix!, /tailcar\.io\/memory-limit/);
});

const text = (file: string, lost: number, reason?: string) => `# HELP tailcar_sidecar_lag_bytes Bytes
# TYPE tailcar_sidecar_lag_bytes gauge
tailcar_sidecar_lag_bytes{file="${file}"} 12
tailcar_sidecar_rotations_total{file="${file}"} 3
tailcar_sidecar_truncations_total{file="${file}"} 1
tailcar_sidecar_copytruncate_lost_bytes_total{file="${file}"} ${lost}
${reason === undefined ? "" : `tailcar_sidecar_file_not_followed{file="${file}",reason="${reason}"} 1`}
`;

test("metrics: following passes with lag, rotations and losses; copytruncate loss warns; a missing file warns; an unreadable one fails; unread metrics skip with why", () => {
  const cases: [{ text?: string; note?: string }, string, RegExp][] = [
    [{ text: text("/var/log/a.log", 0) }, "ok", /lag 12 bytes, 3 rotations, 1 truncations, 0 bytes lost to copytruncate/],
    [{ text: text("/var/log/a.log", 4096) }, "warn", /4096 bytes lost to copytruncate/],
    [{ text: text("/var/log/a.log", 0, "missing") }, "warn", /does not exist yet/],
    [{ text: text("/var/log/a.log", 0, "EACCES") }, "fail", /cannot follow the file: EACCES/],
    [{ text: text("/var/log/other.log", 0) }, "skip", /no series for this file/],
    [{ note: "no metrics port" }, "skip", /not read: no metrics port/],
  ];
  for (const [metrics, want, message] of cases) {
    const r = checkSidecarMetrics(ref, "a-log", "/var/log/a.log", metrics);
    assert.equal(r.status, want, String(message));
    assert.match(r.message, message);
  }
});

test("metrics of a reclaiming sidecar: the bytes reclaimed are said; failed punches warn with where the reason is", () => {
  const reclaim = (freed: number, failures: number) => `${text("/var/log/a.log", 0)}tailcar_sidecar_reclaimed_bytes_total{file="/var/log/a.log"} ${freed}
tailcar_sidecar_reclaim_failures_total{file="/var/log/a.log"} ${failures}
`;
  const freed = checkSidecarMetrics(ref, "a-log", "/var/log/a.log", { text: reclaim(67108864, 0) });
  assert.equal(freed.status, "ok");
  assert.match(freed.message, /0 bytes lost to copytruncate, 67108864 bytes reclaimed$/);
  const failed = checkSidecarMetrics(ref, "a-log", "/var/log/a.log", { text: reclaim(0, 1) });
  assert.equal(failed.status, "warn");
  assert.match(failed.message, /1 reclaim punches failed \(nothing freed, nothing lost\)/);
  assert.match(failed.fix!, /logs .* -c a-log \(a line starting "reclaim:"\)/);
});

test("the Prometheus text parser reads labels with escapes and skips comments and broken lines", () => {
  assert.deepEqual(parseMetrics('# c\nm{file="/a \\"b\\"",x="1"} 2.5\nbroken line\nn 3\n'), [
    { name: "m", labels: { file: '/a "b"', x: "1" }, value: 2.5 },
    { name: "n", labels: {}, value: 3 },
  ]);
});

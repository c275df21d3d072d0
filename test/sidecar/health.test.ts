// The sidecar's /readyz, the readiness probe the injector gives a sidecar with metrics: ready once
// every followed path has been looked at, a missing or unreadable file included (a probe failing
// for a missing log file would take the app out of its Service's endpoints); and a metrics port that
// is taken costs the metrics, not the streaming.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { join } from "node:path";
import { test } from "node:test";
import { readiness } from "../../sidecar/health.ts";
import { createStats } from "../../sidecar/stats.ts";
import { READY_PATH } from "../../settings/sidecar-paths.ts";
import { numberedLines, startSidecar, tempDir, until, waitForLines } from "./harness.ts";

test("readiness: not ready while a path has not been looked at; ready once each is followed or waited for with a reason", () => {
  const stats = createStats(["/a.log", "/b.log"]);
  assert.deepEqual(readiness(stats), { ready: false, files: [{ file: "/a.log", state: "starting" }, { file: "/b.log", state: "starting" }] });
  stats.files.get("/a.log")!.lookedAt = 1;
  assert.equal(readiness(stats).ready, false, "one path still unlooked at");
  const b = stats.files.get("/b.log")!;
  b.lookedAt = 2;
  b.notFollowed = "missing";
  assert.deepEqual(readiness(stats), { ready: true, files: [{ file: "/a.log", state: "following" }, { file: "/b.log", state: "waiting", reason: "missing" }] });
  b.notFollowed = "EACCES";
  assert.equal(readiness(stats).ready, true, "an unreadable file is said, not made a readiness failure");
});

async function readyz(port: number): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${READY_PATH}`, { signal: AbortSignal.timeout(5000) });
  return { status: res.status, body: await res.json() };
}

test("a sidecar with a followed file and a missing one answers /readyz 200 on its metrics port, saying which is which", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const present = join(dir, "app.log");
  const missing = join(dir, "never.log");
  writeFileSync(present, numberedLines(1, 10));
  const sidecar = startSidecar(t, ["--file", present, "--file", missing, "--metrics-port", "0"]);
  await waitForLines(sidecar, 10, 10_000);
  await until(() => sidecar.metricsPort() !== undefined, 10_000, "the metrics port");
  const answer = await readyz(sidecar.metricsPort()!);
  assert.deepEqual(answer, { status: 200, body: { ready: true, files: [{ file: present, state: "following" }, { file: missing, state: "waiting", reason: "missing" }] } });
});

test("a metrics port another process holds: the sidecar says so on stderr and streams its file all the same", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, numberedLines(1, 100));
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, resolve));
  t.after(() => holder.close());
  const port = (holder.address() as AddressInfo).port;
  const sidecar = startSidecar(t, ["--file", file, "--metrics-port", String(port)]);
  await waitForLines(sidecar, 100, 10_000);
  const said = () => sidecar.diagnostics().find((d) => d.msg === "cannot serve metrics: streaming without them (the readiness probe fails)");
  await until(() => said() !== undefined || sidecar.child.exitCode !== null, 10_000, () => `the error on stderr: ${sidecar.stderr()}`);
  const error = said();
  assert.ok(error, `the error on stderr: ${sidecar.stderr()}`);
  assert.equal(error.port, port);
  assert.match(String(error.error), /EADDRINUSE/);
  writeFileSync(file, numberedLines(101, 120), { flag: "a" });
  await waitForLines(sidecar, 120, 10_000);
});

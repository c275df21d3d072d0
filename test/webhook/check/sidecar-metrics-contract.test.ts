// What `tailcar check` reads from a sidecar's /metrics, against a real `tailcar sidecar` (the built
// CLI: npm run build first): a followed file, a missing one, and one its user may not read.
import assert from "node:assert/strict";
import { chmodSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { checkSidecarMetrics } from "../../../webhook/check/sidecar-state.ts";
import { startSidecar, tempDir, until } from "../../sidecar/harness.ts";

const ref = { group: "pod shop/web", namespace: "shop", name: "web" };

test("a real sidecar's metrics: a followed file passes with lag 0, a missing one warns, one its user may not read fails with EACCES", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const followed = join(dir, "app.log");
  const missing = join(dir, "later.log");
  const secret = join(dir, "secret.log");
  writeFileSync(followed, "one\ntwo\n", { mode: 0o644 });
  writeFileSync(secret, "hidden\n", { mode: 0o644 });
  chmodSync(secret, 0o000);
  t.after(() => rmSync(secret, { force: true }));
  // Root reads any file: the sidecar runs as nobody when we are root.
  const as = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
  const sidecar = startSidecar(t, ["--file", followed, "--file", missing, "--file", secret, "--metrics-port", "0", "--poll-interval", "50ms"], {}, "pipe", as);
  await until(() => sidecar.metricsPort() !== undefined, 10_000, () => `the metrics port; stderr: ${sidecar.stderr().slice(-1000)}`);
  const judged = async () => {
    const text = await (await fetch(`http://127.0.0.1:${sidecar.metricsPort()}/metrics`)).text();
    return [followed, missing, secret].map((file) => checkSidecarMetrics(ref, "s", file, { text }));
  };
  let last = "";
  await until(async () => {
    const results = await judged();
    last = JSON.stringify(results);
    return results.map((r) => r.status).join() === "ok,warn,fail";
  }, 10_000, () => `ok, warn, fail; last: ${last}`);
  const [ok, waiting, denied] = await judged();
  assert.match(ok!.message, /followed by sidecar s: lag 0 bytes, 0 rotations, 0 truncations, 0 bytes lost to copytruncate/);
  assert.match(waiting!.message, /does not exist yet/);
  assert.match(denied!.message, /cannot follow the file: EACCES/);
});

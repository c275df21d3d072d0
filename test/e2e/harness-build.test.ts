// Finding or building the control-plane binaries: the clear failure without Go, KUBEBUILDER_ASSETS,
// and the lock that keeps two builders from compiling Kubernetes at the same time.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { cacheKey, goEnv, pinsHash } from "../../localcluster/harness/build.ts";
import { pollUntil } from "../../localcluster/harness/poll.ts";

const BUILD_SCRIPT = fileURLToPath(new URL("../../localcluster/harness/build.ts", import.meta.url));

test("without Go, binaries or cache, the build says plainly that Go is required", () => {
  const home = mkdtempSync(join(tmpdir(), "tailcar-nogo-"));
  try {
    const run = spawnSync(process.execPath, [BUILD_SCRIPT], {
      env: { PATH: join(home, "empty-path"), HOME: home, XDG_CACHE_HOME: join(home, "cache") },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(run.status, 1, run.stderr);
    assert.match(run.stderr, /^Go is required to build the control plane: `go` was not found on PATH/);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("binaries in KUBEBUILDER_ASSETS are used as they are, without Go", () => {
  const assets = mkdtempSync(join(tmpdir(), "tailcar-assets-"));
  try {
    for (const name of ["etcd", "kube-apiserver", "kube-controller-manager"]) {
      writeFileSync(join(assets, name), "#!/bin/sh\n");
      chmodSync(join(assets, name), 0o755);
    }
    const run = spawnSync(process.execPath, [BUILD_SCRIPT], {
      env: { PATH: join(assets, "empty-path"), HOME: assets, KUBEBUILDER_ASSETS: assets },
      encoding: "utf8",
      timeout: 30_000,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`kube-controller-manager +${join(assets, "kube-controller-manager")} \\(KUBEBUILDER_ASSETS\\)`));
  } finally {
    rmSync(assets, { recursive: true, force: true });
  }
});

test("a second builder waits for the one holding the build lock, then uses what it built", async () => {
  const home = mkdtempSync(join(tmpdir(), "tailcar-lock-"));
  const holder = spawn("sleep", ["30"], { stdio: "ignore" });
  try {
    const assets = join(home, "assets");
    const entry = join(home, "cache", "tailcar", "control-plane", cacheKey(pinsHash(), await goEnv()));
    mkdirSync(assets);
    mkdirSync(entry, { recursive: true });
    const fakeBinary = (path: string): void => {
      writeFileSync(path, "#!/bin/sh\n");
      chmodSync(path, 0o755);
    };
    fakeBinary(join(assets, "etcd"));
    fakeBinary(join(assets, "kube-apiserver"));
    writeFileSync(join(entry, ".build.lock"), String(holder.pid));
    const waiter = spawn(process.execPath, [BUILD_SCRIPT], {
      env: { ...process.env, XDG_CACHE_HOME: join(home, "cache"), KUBEBUILDER_ASSETS: assets },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    waiter.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    waiter.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => waiter.on("exit", resolve));
    await pollUntil("the second builder to report that it waits", async () => (stderr.includes(`already running in pid ${holder.pid}`) ? true : undefined), {
      timeoutMs: 15_000,
    });
    // The first builder finishes: its binary appears, then its pid goes away.
    fakeBinary(join(entry, "kube-controller-manager"));
    holder.kill("SIGKILL");
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /kube-controller-manager .* \(cache\)/);
    assert.equal(existsSync(join(entry, ".build.lock")), false);
  } finally {
    holder.kill("SIGKILL");
    rmSync(home, { recursive: true, force: true });
  }
});


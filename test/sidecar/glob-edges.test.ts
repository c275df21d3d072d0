// A glob beside things that are not plain log files: a symlink loop in its directory, an exact path
// that it also matches, and the copy copytruncate leaves beside a file.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, copyFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startSidecar, tempDir, until } from "./harness.ts";

test("a symlink loop (ELOOP) among a glob's matches is skipped: the other files stream on and a later file is found", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "a.log"), "one\n");
  symlinkSync(join(dir, "loop.log"), join(dir, "loop.log"));
  const sidecar = startSidecar(t, ["--file", `${dir}/*.log`]);
  await until(() => sidecar.stdout().toString() === "one\n", 5000, () => `a.log's line; stderr: ${sidecar.stderr()}`);
  writeFileSync(join(dir, "b.log"), "two\n");
  await until(() => sidecar.stdout().toString() === "one\ntwo\n", 5000, () => `b.log's line; stderr: ${sidecar.stderr()}`);
  assert.equal(sidecar.child.exitCode, null, "still running");
  assert.equal(await sidecar.stop(), 0);
});

test("a file named exactly and matched by a glob too is followed once, and the glob never lets go of it", { timeout: 40_000 }, async (t) => {
  const dir = tempDir(t);
  const a = join(dir, "a.log");
  writeFileSync(a, "one\n");
  writeFileSync(join(dir, "b.log"), "b\n");
  const sidecar = startSidecar(t, ["--file", a, "--file", `${dir}/*.log`, "--format", "json"]);
  await until(() => sidecar.stdout().toString().split("\n").length > 2, 5000, "both files' lines");
  rmSync(a);
  // Longer than a glob waits before it lets go of a file gone from its listing (RETIRE_QUIET_MS, 10 s).
  await sleep(12_000);
  writeFileSync(a, "two\n");
  appendFileSync(join(dir, "b.log"), "b2\n");
  await until(() => (sidecar.stdout().toString().match(/"log":"two"/g) ?? []).length === 1, 5000, () => `the new a.log's line; stderr: ${sidecar.stderr()}`);
  assert.equal((sidecar.stdout().toString().match(/"log":"one"/g) ?? []).length, 1);
  assert.ok(!sidecar.diagnostics().some((d) => d.msg === "file no longer matched: let go" && d.file === a), "the exact path's follower stays");
  assert.equal(await sidecar.stop(), 0);
});

test("copytruncate under a glob that matches the copy too: the copy is not followed as a new file, nothing is read twice", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const a = join(dir, "a.log");
  writeFileSync(a, numbered(1, 1000));
  const sidecar = startSidecar(t, ["--file", `${dir}/*`]);
  await until(() => sidecar.stdout().toString() === numbered(1, 1000), 5000, () => `the first 1,000 lines; stderr: ${sidecar.stderr()}`);
  // What logrotate's copytruncate does: copy, then truncate in place; the app writes on.
  copyFileSync(a, `${a}.1`);
  truncateSync(a, 0);
  appendFileSync(a, numbered(1001, 2000));
  await until(() => sidecar.stdout().toString() === numbered(1, 2000), 5000, () => `lines 1..2000 once, in order; have ${sidecar.stdout().toString().split("\n").length - 1} lines; stderr: ${sidecar.stderr()}`);
  await sleep(1500); // a copy taken for a new file would show by now
  assert.equal(sidecar.stdout().toString(), numbered(1, 2000));
  assert.ok(!sidecar.diagnostics().some((d) => d.msg === "following file" && d.file === `${a}.1`));
  assert.equal(await sidecar.stop(), 0);
});

function numbered(from: number, to: number): string {
  let s = "";
  for (let i = from; i <= to; i++) s += `${i}\n`;
  return s;
}

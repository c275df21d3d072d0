// One file reached by two followed paths (a rotation into another followed name, a symlink) is
// read once: the first follower to open it owns it, the other waits, and when the owner lets go
// (it finished the file after a rotation) the other carries on from where the owner stopped.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { checkSequence, describe, numberedLines, parseNumbers, startSidecar, tempDir, waitForLines, waitUntilFollowing, type Sidecar } from "./harness.ts";

const FAST = ["--poll-interval", "100ms"];

/** Every number 1..expected exactly once; the order across two paths is not promised. */
function assertOnceEach(sidecar: Sidecar, expected: number): void {
  const r = checkSequence(parseNumbers(sidecar.stdout()), expected);
  assert.ok(r.missing.length === 0 && r.duplicates.length === 0, `${describe(r)}; stderr: ${sidecar.stderr().slice(-3000)}`);
}

test("following app.log and app.log.1: a rename rotation does not read the rotated file again under its new name", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const rotated = `${file}.1`;
  writeFileSync(file, numberedLines(1, 1000));
  const sidecar = startSidecar(t, ["--file", file, "--file", rotated, ...FAST]);
  await waitUntilFollowing(sidecar);
  await waitForLines(sidecar, 1000, 10_000);
  appendFileSync(file, numberedLines(1001, 1200)); // written just before the rotation: may be read under either name
  renameSync(file, rotated);
  appendFileSync(rotated, numberedLines(1201, 1300)); // a writer that has not reopened yet
  writeFileSync(file, numberedLines(1301, 1500));
  await waitForLines(sidecar, 1500, 10_000);
  await sleep(3000); // past the rotation grace: a second read of app.log.1 would show now
  // app.log's follower has let the old file go; app.log.1's took it on where it stopped.
  appendFileSync(rotated, numberedLines(1501, 1550));
  await waitForLines(sidecar, 1550, 5000);
  assert.equal(await sidecar.stop(), 0);
  assertOnceEach(sidecar, 1550);
  const handedOn = sidecar.diagnostics().filter((d) => d.msg === "file already read up to here: going on from there");
  assert.deepEqual(handedOn.map((d) => [d.file, d.readAs]), [[rotated, file]], sidecar.stderr());
});

test("a rotation chain app.log -> app.log.1 -> app.log.2 with all three followed reads every line once", { timeout: 40_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, numberedLines(1, 100));
  const sidecar = startSidecar(t, ["--file", file, "--file", `${file}.1`, "--file", `${file}.2`, ...FAST]);
  await waitForLines(sidecar, 100, 10_000);
  renameSync(file, `${file}.1`);
  writeFileSync(file, numberedLines(101, 200));
  await waitForLines(sidecar, 200, 10_000);
  await sleep(2500);
  renameSync(`${file}.1`, `${file}.2`);
  renameSync(file, `${file}.1`);
  writeFileSync(file, numberedLines(201, 300));
  await waitForLines(sidecar, 300, 10_000);
  await sleep(3000);
  assert.equal(await sidecar.stop(), 0);
  assertOnceEach(sidecar, 300);
});

test("a path and a symlink to it: the file is read once, and the symlink's follower says which path reads it", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const link = join(dir, "current.log");
  writeFileSync(file, numberedLines(1, 500));
  symlinkSync("app.log", link);
  const sidecar = startSidecar(t, ["--file", file, "--file", link, ...FAST]);
  await waitForLines(sidecar, 500, 10_000);
  appendFileSync(file, numberedLines(501, 600));
  await waitForLines(sidecar, 600, 5000);
  await sleep(1000);
  assert.equal(await sidecar.stop(), 0);
  assertOnceEach(sidecar, 600);
  const notes = sidecar.diagnostics().filter((d) => d.reason === "followed-elsewhere");
  assert.equal(notes.length, 1, sidecar.stderr());
  assert.deepEqual([notes[0]!.file, notes[0]!.followedAs].sort(), [file, link].sort());
});

test("after a restart, a file rotated into the other followed name while stopped is finished from its checkpoint, not read again from 0", { timeout: 40_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const rotated = `${file}.1`;
  const args = ["--file", file, "--file", rotated, "--checkpoint-dir", join(dir, "cp"), ...FAST];
  writeFileSync(file, numberedLines(1, 100));
  const first = startSidecar(t, args);
  await waitForLines(first, 100, 10_000);
  assert.equal(await first.stop(), 0);
  renameSync(file, rotated);
  appendFileSync(rotated, numberedLines(101, 150));
  writeFileSync(file, numberedLines(151, 200));
  const second = startSidecar(t, args);
  await waitForLines(second, 100, 10_000);
  await sleep(3000);
  assert.equal(await second.stop(), 0);
  const r = checkSequence([...parseNumbers(first.stdout()), ...parseNumbers(second.stdout())], 200);
  assert.ok(r.missing.length === 0 && r.duplicates.length === 0, `${describe(r)}; stderr: ${second.stderr().slice(-3000)}`);
});

test("a path given twice is followed once", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, numberedLines(1, 300));
  const sidecar = startSidecar(t, ["--file", file, "--file", file, ...FAST]);
  await waitForLines(sidecar, 300, 10_000);
  await sleep(1000);
  assert.equal(await sidecar.stop(), 0);
  assertOnceEach(sidecar, 300);
});

// Checkpoint files: versioned (version 1 migrated), atomic, refused (with a reason) when they are
// not ours, and their directory made without looping on one that cannot be.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CHECKPOINT_VERSION, checkpointFile, loadCheckpoint, saveCheckpoint, type Checkpoint } from "../../sidecar/checkpoint.ts";
import { makeDir } from "../../sidecar/make-dir.ts";
import { tempDir } from "./harness.ts";

const sample = (path: string, offset: number): Checkpoint => ({
  version: CHECKPOINT_VERSION,
  path,
  identity: { dev: "64768", ino: "18446744073709551000", fingerprint: "ab".repeat(32), fingerprintLength: 1024 },
  offset,
  tail: { length: 64, sha256: "cd".repeat(32) },
  savedAt: new Date(0).toISOString(),
});

test("a saved checkpoint loads back unchanged, replacing the previous one, with no temp file left", async (t) => {
  const dir = tempDir(t);
  await saveCheckpoint(dir, sample("/var/log/app.log", 10));
  await saveCheckpoint(dir, sample("/var/log/app.log", 20));
  const loaded = await loadCheckpoint(dir, "/var/log/app.log");
  assert.deepEqual(loaded.checkpoint, sample("/var/log/app.log", 20));
  assert.deepEqual(readdirSync(dir), [checkpointFile(dir, "/var/log/app.log").slice(dir.length + 1)]);
});

test("each followed path has its own checkpoint file", async (t) => {
  const dir = tempDir(t);
  await saveCheckpoint(dir, sample("/a.log", 1));
  await saveCheckpoint(dir, sample("/b.log", 2));
  assert.equal((await loadCheckpoint(dir, "/a.log")).checkpoint?.offset, 1);
  assert.equal((await loadCheckpoint(dir, "/b.log")).checkpoint?.offset, 2);
});

test("a missing checkpoint is no problem; a broken or foreign one is refused with the reason", async (t) => {
  const dir = tempDir(t);
  assert.deepEqual(await loadCheckpoint(dir, "/none.log"), { checkpoint: undefined });
  writeFileSync(checkpointFile(dir, "/bad.log"), "{not json");
  const bad = await loadCheckpoint(dir, "/bad.log");
  assert.equal(bad.checkpoint, undefined);
  assert.match("problem" in bad ? String(bad.problem) : "", /is not JSON/);
  writeFileSync(checkpointFile(dir, "/old.log"), JSON.stringify({ ...sample("/old.log", 5), version: 0 }));
  const old = await loadCheckpoint(dir, "/old.log");
  assert.equal(old.checkpoint, undefined);
  assert.match("problem" in old ? String(old.problem) : "", /not a version 1 or 2 checkpoint for \/old.log/);
});

test("a checkpoint whose savedAt is no time is refused with the reason (it bounds the search for rotated generations; unparsed, it stopped the sidecar)", async (t) => {
  const dir = tempDir(t);
  for (const savedAt of ["yesterday", 0, undefined]) {
    writeFileSync(checkpointFile(dir, "/when.log"), JSON.stringify({ ...sample("/when.log", 5), savedAt }));
    const loaded = await loadCheckpoint(dir, "/when.log");
    assert.equal(loaded.checkpoint, undefined, `savedAt ${savedAt}`);
    assert.match("problem" in loaded ? String(loaded.problem) : "", /not a version 1 or 2 checkpoint for \/when.log/);
  }
});

test("a version 1 checkpoint (written before midLine and pending existed) loads as the current version", async (t) => {
  const dir = tempDir(t);
  const { version: _, ...rest } = sample("/v1.log", 42);
  writeFileSync(checkpointFile(dir, "/v1.log"), JSON.stringify({ version: 1, ...rest }));
  assert.deepEqual((await loadCheckpoint(dir, "/v1.log")).checkpoint, sample("/v1.log", 42));
});

test("a checkpoint inside a line with output owed loads back unchanged; owed bytes that are not base64 are refused", async (t) => {
  const dir = tempDir(t);
  const cp: Checkpoint = { ...sample("/mid.log", 65_536), midLine: true, pending: Buffer.from('"log":"half a rec').toString("base64") };
  await saveCheckpoint(dir, cp);
  assert.deepEqual((await loadCheckpoint(dir, "/mid.log")).checkpoint, cp);
  writeFileSync(checkpointFile(dir, "/mid.log"), JSON.stringify({ ...cp, pending: "not base64!" }));
  assert.equal((await loadCheckpoint(dir, "/mid.log")).checkpoint, undefined);
});

test("a forwarding checkpoint's time anchor loads back unchanged; one that does not read is left out, the checkpoint kept", async (t) => {
  const dir = tempDir(t);
  const cp: Checkpoint = { ...sample("/fwd.log", 4096), times: { fileKey: "64768:12:1700000000000000000:abcd", from: 2048, ns: "1700000000123456789", until: 16_781_312 } };
  await saveCheckpoint(dir, cp);
  assert.deepEqual((await loadCheckpoint(dir, "/fwd.log")).checkpoint, cp);
  for (const times of [{ ...cp.times, ns: 17 }, { ...cp.times, ns: "1e9" }, { ...cp.times, until: 10 }, { ...cp.times, from: -1 }, "x", null]) {
    writeFileSync(checkpointFile(dir, "/fwd.log"), JSON.stringify({ ...cp, times }));
    assert.deepEqual((await loadCheckpoint(dir, "/fwd.log")).checkpoint, sample("/fwd.log", 4096), JSON.stringify(times));
  }
});

test("a forwarding checkpoint's multiline cut loads back unchanged; one not past the offset, or not a whole number, is left out, the checkpoint kept", async (t) => {
  const dir = tempDir(t);
  const cp: Checkpoint = { ...sample("/cut.log", 4096), cut: 4200 };
  await saveCheckpoint(dir, cp);
  assert.deepEqual((await loadCheckpoint(dir, "/cut.log")).checkpoint, cp);
  for (const cut of [4096, 10, -1, 4200.5, "4200", null]) {
    writeFileSync(checkpointFile(dir, "/cut.log"), JSON.stringify({ ...cp, cut }));
    assert.deepEqual((await loadCheckpoint(dir, "/cut.log")).checkpoint, sample("/cut.log", 4096), JSON.stringify(cut));
  }
});

test("a checkpoint directory is made with its missing parents; a file in the way is named, and a directory mkdir cannot make fails at once", async (t) => {
  const dir = tempDir(t);
  await saveCheckpoint(join(dir, "a", "b", "c"), sample("/deep.log", 3));
  assert.equal((await loadCheckpoint(join(dir, "a", "b", "c"), "/deep.log")).checkpoint?.offset, 3);
  writeFileSync(join(dir, "file"), "");
  await assert.rejects(saveCheckpoint(join(dir, "file", "cp"), sample("/x.log", 1)), /ENOTDIR/);
  await assert.rejects(saveCheckpoint(join(dir, "file"), sample("/x.log", 1)), /ENOTDIR/);
  // node's recursive mkdir never returns here (ENOENT beside an existing parent).
  await assert.rejects(makeDir(`/proc/tailcar-${process.pid}/cp`), /ENOENT/);
});

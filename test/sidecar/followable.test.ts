// What may be followed, and the opens of sidecar/files.ts, which must never wait on what they
// meet: a regular file (or a symlink to one) opens; anything else is refused by kind.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isPseudoFile, refusalFor } from "../../sidecar/followable.ts";
import { openFollowable } from "../../sidecar/files.ts";
import { tempDir } from "./harness.ts"

const FILES_TS = new URL("../../sidecar/files.ts", import.meta.url).pathname;

test("a regular file is followable; a directory, a FIFO and a device are refused by kind", (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "a.log"), "x\n");
  execFileSync("mkfifo", [join(dir, "p")]);
  assert.equal(refusalFor(statSync(join(dir, "a.log"))), undefined);
  assert.equal(refusalFor(statSync(dir)), "directory");
  assert.equal(refusalFor(statSync(join(dir, "p"))), "fifo");
  assert.equal(refusalFor(statSync("/dev/null")), "device");
});

test("a pseudo-file: on procfs or sysfs whatever its size, or anywhere when it reports 0 bytes and a read returns some", () => {
  assert.equal(isPseudoFile(0x9fa0, 0n, 0, 0n), true, "procfs");
  assert.equal(isPseudoFile(0x62656572, 4096n, 0, 4096n), true, "sysfs");
  assert.equal(isPseudoFile(0xef53, 0n, 0, 0n), false, "an empty file on ext4");
  assert.equal(isPseudoFile(0xef53, 100n, 0, 100n), false, "a file on ext4");
  assert.equal(isPseudoFile(undefined, 0n, 1, 0n), true, "size 0, yet it reads");
  assert.equal(isPseudoFile(undefined, 0n, 1, 10n), false, "a writer appended between the stat and the read");
});

test("openFollowable: a regular file (and a symlink to one) opens; a FIFO, a directory, /proc/self/environ and /dev/zero are refused; a missing file throws ENOENT", async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "a.log"), "x\n");
  writeFileSync(join(dir, "empty.log"), "");
  symlinkSync("a.log", join(dir, "link.log"));
  execFileSync("mkfifo", [join(dir, "p")]);
  mkdirSync(join(dir, "d"));
  for (const name of ["a.log", "empty.log", "link.log"]) {
    const r = await openFollowable(join(dir, name));
    assert.ok("fh" in r, name);
    await r.fh.close();
  }
  assert.deepEqual(await openFollowable(join(dir, "p")), { refused: "fifo" });
  assert.deepEqual(await openFollowable(join(dir, "d")), { refused: "directory" });
  assert.deepEqual(await openFollowable("/proc/self/environ"), { refused: "pseudo-file" });
  assert.deepEqual(await openFollowable("/dev/zero"), { refused: "device" }, "endless zeros are no log file");
  await assert.rejects(openFollowable(join(dir, "missing.log")), { code: "ENOENT" });
});

test("opening a FIFO that has no writer returns at once (the open that may race with a stat never blocks)", (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, "p");
  execFileSync("mkfifo", [fifo]);
  // In a child: a blocking open would hang this process, where no test timeout could end it.
  const script = `const { open } = await import(${JSON.stringify(FILES_TS)}); const fh = await open(${JSON.stringify(fifo)}); const st = await fh.stat(); await fh.close(); console.log(st.isFIFO());`;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], { timeout: 5000, encoding: "utf8" });
  assert.equal(r.signal, null, "the open did not return within 5 s");
  assert.equal(r.stdout.trim(), "true", r.stderr);
});

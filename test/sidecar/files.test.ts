// OpenFile keeps FileHandle's safety on a bare descriptor: close waits for reads in flight, a
// second close is harmless, and nothing runs on the descriptor after close (its number may be
// reused by the next open).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { open, readFile, removeFile, stat } from "../../sidecar/files.ts";
import { tempDir } from "./harness.ts";

test("a read in flight completes before close closes the descriptor", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "a.log");
  writeFileSync(path, "0123456789".repeat(10_000));
  const fh = await open(path);
  const buf = Buffer.alloc(100_000);
  const reading = fh.read(buf, 0, buf.length, 0);
  const closing = fh.close();
  assert.equal((await reading).bytesRead, 100_000);
  await closing;
  assert.equal(buf.subarray(0, 10).toString(), "0123456789");
});

test("after close, operations fail with EBADF and a second close resolves", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "b.log");
  writeFileSync(path, "hello\n");
  const fh = await open(path);
  await fh.close();
  await assert.rejects(fh.read(Buffer.alloc(4), 0, 4, 0), { code: "EBADF" });
  await assert.rejects(fh.stat(), { code: "EBADF" });
  await fh.close();
});

test("write, sync, read back, stat with bigints, and remove (a missing file is fine)", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "c.json");
  const fh = await open(path, "w");
  await fh.writeFile('{"ä":1}\n');
  await fh.sync();
  assert.equal((await fh.stat({ bigint: true })).size, 9n);
  await fh.close();
  assert.equal(await readFile(path), '{"ä":1}\n');
  assert.equal(typeof (await stat(path, { bigint: true })).ino, "bigint");
  await removeFile(path);
  assert.equal(existsSync(path), false);
  await removeFile(path);
  await assert.rejects(open(path), { code: "ENOENT" });
});

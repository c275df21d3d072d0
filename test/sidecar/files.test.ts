// OpenFile keeps FileHandle's safety on a bare descriptor: close waits for writes in flight, a
// second close is harmless, and nothing runs on the descriptor after close (its number may be
// reused by the next open).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { open, readdir, readFile, removeFile, stat } from "../../sidecar/files.ts";
import { tempDir } from "./harness.ts";

test("a write and an fsync in flight complete before close closes the descriptor", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "a.log");
  const text = "0123456789".repeat(10_000);
  const fh = await open(path, "w");
  const writing = fh.writeFile(text);
  const syncing = fh.sync();
  const closing = fh.close();
  await Promise.all([writing, syncing, closing]);
  assert.equal(await readFile(path), text);
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

test("opens, reads, stats and directory listings are done before they return, not queued to libuv's thread pool (the idle poll's wake-ups)", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "d.log");
  writeFileSync(path, "hello\n");
  // A request to the pool shows as an FSReqCallback until its callback has run.
  const queued = (): number => process.getActiveResourcesInfo().filter((r) => r === "FSReqCallback").length;
  const before = queued();
  const opening = open(path);
  assert.equal(queued(), before, "open");
  const fh = await opening;
  const buf = Buffer.alloc(6);
  const pending = [fh.read(buf, 0, 6, 0), fh.stat(), fh.stat({ bigint: true }), stat(path, { bigint: true }), readdir(dir)];
  assert.equal(queued(), before, "read, fstat, stat, readdir");
  const [read, st, big, byPath, names] = await Promise.all(pending);
  assert.deepEqual([(read as { bytesRead: number }).bytesRead, buf.toString()], [6, "hello\n"]);
  assert.equal((st as { size: number }).size, 6);
  assert.equal((big as { ino: bigint }).ino, (byPath as { ino: bigint }).ino);
  assert.deepEqual(names, ["d.log"]);
  // Failures still arrive as rejections, as they did from the pool.
  await assert.rejects(open(join(dir, "missing.log")), { code: "ENOENT" });
  await assert.rejects(stat(join(dir, "missing.log"), { bigint: true }), { code: "ENOENT" });
  await fh.close();
});

// FdSink (sidecar/fd-sink.ts) against a real FIFO: what fits in the pipe is written on the
// sidecar's thread and the rest waits in the pool; what it does when the descriptor it was given
// is non-blocking (EAGAIN), when batches from several followers are in flight at once, and when
// the reader goes away (EPIPE).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, closeSync, constants, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FdSink } from "../../sidecar/fd-sink.ts";
import { SinkClosedError } from "../../sidecar/sink.ts";
import { readAvailable, tempDir } from "./harness.ts";

const { O_RDONLY, O_WRONLY, O_NONBLOCK } = constants;

/**
 * Both ends of a FIFO, closed after the test. The reader is non-blocking (the test polls it); the
 * writer is blocking, as a container runtime gives stdout, or non-blocking, as someone may have
 * made it.
 */
function fifo(t: TestContext, writerMode: "blocking" | "non-blocking"): { reader: number; writer: number; closeReader(): void } {
  const path = join(tempDir(t), "out.fifo");
  execFileSync("mkfifo", [path]);
  const reader = openSync(path, O_RDONLY | O_NONBLOCK);
  const writer = openSync(path, O_WRONLY | (writerMode === "non-blocking" ? O_NONBLOCK : 0));
  let readerOpen = true;
  const closeReader = (): void => {
    if (readerOpen) closeSync(reader);
    readerOpen = false;
  };
  t.after(() => {
    closeSync(writer);
    closeReader();
  });
  return { reader, writer, closeReader };
}

/** Reads `fd` slowly (16 KiB every 2 ms) until `total` bytes came or 20 s passed. */
async function slowRead(fd: number, total: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let got = 0;
  for (const until = Date.now() + 20_000; got < total && Date.now() < until; ) {
    await new Promise((r) => setTimeout(r, 2));
    const buf = Buffer.alloc(16 * 1024);
    try {
      const n = readSync(fd, buf, 0, buf.length, null);
      chunks.push(buf.subarray(0, n));
      got += n;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
    }
  }
  return Buffer.concat(chunks);
}

test("a non-blocking stdout (EAGAIN) is retried: batches from three files in flight at once all arrive whole and in the order given", { timeout: 30_000 }, async (t) => {
  const { reader, writer } = fifo(t, "non-blocking");
  const sink = new FdSink(writer);
  // 60 batches of 8 KiB, far more than a pipe holds (64 KiB), so the writer meets a full pipe.
  const batches = Array.from({ length: 60 }, (_, i) => Buffer.from(`${String(i).padStart(4, "0")} ${"x".repeat(8186)}\n`));
  const writes = batches.map((data, i) => sink.write({ file: `f${i % 3}.log`, data }));
  assert.ok(sink.pending > 0, "batches are queued while the pipe is full");
  const expected = Buffer.concat(batches);
  const [received] = await Promise.all([slowRead(reader, expected.length), Promise.all(writes)]);
  assert.equal(received.length, expected.length);
  assert.ok(received.equals(expected), "every batch once, whole, in the order given");
  assert.equal(sink.pending, 0);
});

test("EPIPE: the batch and those queued behind it fail with a message naming stdout, and so does every later write", async (t) => {
  const { writer, closeReader } = fifo(t, "non-blocking");
  closeReader();
  const sink = new FdSink(writer);
  const first = sink.write({ file: "a.log", data: Buffer.from("one\n") });
  const queued = sink.write({ file: "b.log", data: Buffer.from("two\n") });
  await assert.rejects(first, (e: unknown) => e instanceof SinkClosedError && e.message === "stdout is closed (EPIPE): its reader went away");
  await assert.rejects(queued, SinkClosedError);
  await assert.rejects(sink.write({ file: "a.log", data: Buffer.from("three\n") }), SinkClosedError);
  assert.equal(sink.pending, 0);
});

const poolRequests = (): number => process.getActiveResourcesInfo().filter((r) => r === "FSReqCallback").length;

test("a pipe with room: the batch is written on this thread, with no request handed to libuv's pool", async (t) => {
  const { reader, writer } = fifo(t, "blocking");
  const sink = new FdSink(writer);
  assert.equal(sink.writesInline, true);
  // (The test runner may have requests of its own in the pool: count ours as the difference.)
  const before = poolRequests();
  const written = sink.write({ file: "a.log", data: Buffer.from("one\ntwo\n") });
  await Promise.resolve(); // the batch's turn in the chain has come
  assert.equal(poolRequests(), before, `pending: ${process.getActiveResourcesInfo().join(", ")}`);
  await written;
  const buf = Buffer.alloc(64);
  assert.equal(buf.toString("utf8", 0, readSync(reader, buf, 0, buf.length, null)), "one\ntwo\n");
});

test("a full pipe: what does not fit waits in the pool on the blocking descriptor, and every batch arrives whole and in order", { timeout: 30_000 }, async (t) => {
  const { reader, writer } = fifo(t, "blocking");
  const sink = new FdSink(writer);
  // 40 batches of 24 KiB (odd sizes, so writes end mid-page): the pipe (64 KiB) is full at once.
  const batches = Array.from({ length: 40 }, (_, i) => Buffer.from(`${String(i).padStart(4, "0")} ${"y".repeat(24_571 + i)}\n`));
  const writes = batches.map((data, i) => sink.write({ file: `f${i % 2}.log`, data }));
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(poolRequests() > 0, "a write is parked in the pool while the pipe is full");
  const expected = Buffer.concat(batches);
  const [received] = await Promise.all([slowRead(reader, expected.length), Promise.all(writes)]);
  assert.equal(received.length, expected.length);
  assert.ok(received.equals(expected), "every batch once, whole, in the order given");
});

test("a regular file as stdout is not opened again: batches are appended after what it held (O_APPEND kept)", async (t) => {
  const path = join(tempDir(t), "stdout.txt");
  writeFileSync(path, "already there\n");
  const fd = openSync(path, "a");
  t.after(() => closeSync(fd));
  const sink = new FdSink(fd);
  assert.equal(sink.writesInline, false);
  appendFileSync(path, "from another writer\n");
  await sink.write({ file: "a.log", data: Buffer.from("one\n") });
  await sink.write({ file: "a.log", data: Buffer.from("two\n") });
  assert.equal(readFileSync(path, "utf8"), "already there\nfrom another writer\none\ntwo\n");
});

test("EPIPE on the inline path: a reader that goes away after the sink opened the pipe fails the batch with the same message", async (t) => {
  const { writer, closeReader } = fifo(t, "blocking");
  const sink = new FdSink(writer);
  assert.equal(sink.writesInline, true);
  closeReader();
  await assert.rejects(sink.write({ file: "a.log", data: Buffer.from("one\n") }), (e: unknown) => e instanceof SinkClosedError && e.message === "stdout is closed (EPIPE): its reader went away");
  await assert.rejects(sink.write({ file: "a.log", data: Buffer.from("two\n") }), SinkClosedError);
});

test("halted with a write parked in a full pipe: taken() counts exactly the bytes the reader gets, however much it reads after", { timeout: 30_000 }, async (t) => {
  // The shutdown checkpoints taken() and ends the process: a parked write that went on pouring
  // bytes into the pipe once the reader woke up would hand it bytes the checkpoint sends again.
  const { reader, writer } = fifo(t, "blocking");
  const sink = new FdSink(writer);
  const batch = { file: "a.log", data: Buffer.from(Array.from({ length: 6000 }, (_, i) => `${i} ${"z".repeat(40)}\n`).join("")) };
  void sink.write(batch);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(poolRequests() > 0, "a write is parked in the pool while the pipe is full");
  sink.halt();
  const taken = sink.taken(batch);
  let received = readAvailable(reader);
  // The parked write may complete now that there is room (it is at most PIPE_BUF, so whole or not
  // at all); nothing after it starts.
  for (let i = 0; i < 10; i++) {
    await new Promise((r) => setTimeout(r, 20));
    received = Buffer.concat([received, readAvailable(reader)]);
  }
  assert.ok(received.length < batch.data.length, `the halted sink stopped short (${received.length} of ${batch.data.length} B)`);
  assert.ok(received.length <= taken + 4096, `at most one parked write of PIPE_BUF went out after halt (${received.length} B read, ${taken} taken at halt)`);
  assert.equal(sink.taken(batch), received.length, "taken() is exactly what the reader got");
  assert.ok(received.equals(batch.data.subarray(0, received.length)), "the bytes are the batch's, in order");
});

// FileOutput.resumePoint (sidecar/file-output.ts) against a real FIFO through FdSink: after a
// shutdown halts the sink with a batch taken in part, the resume point plus what it says is owed
// continue the reader's stream exactly where the pipe cut it, for raw bytes and for JSON records.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FdSink } from "../../sidecar/fd-sink.ts";
import { FileOutput } from "../../sidecar/file-output.ts";
import { open } from "../../sidecar/files.ts";
import { newFileStats } from "../../sidecar/stats.ts";
import { createTransform } from "../../sidecar/transform.ts";
import { jsonConfig, readAvailable, tempDir } from "./harness.ts";

/** A FIFO with a blocking writer (as a runtime gives stdout) and a reader that has read nothing. */
function fifo(t: TestContext): { reader: number; writer: number; dir: string } {
  const dir = tempDir(t);
  const path = join(dir, "out.fifo");
  execFileSync("mkfifo", [path]);
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(path, constants.O_WRONLY);
  t.after(() => {
    closeSync(writer);
    closeSync(reader);
  });
  return { reader, writer, dir };
}

const LINES = Array.from({ length: 4000 }, (_, i) => `${i + 1} ${"x".repeat(25)}`);
const TEXT = Buffer.from(LINES.join("\n") + "\n");

async function halfWritten(t: TestContext, format: "raw" | "json" | "multiline"): Promise<{ output: FileOutput; got: Buffer }> {
  const { reader, writer, dir } = fifo(t);
  const file = join(dir, "app.log");
  writeFileSync(file, TEXT);
  const fh = await open(file);
  t.after(() => fh.close());
  const sink = new FdSink(writer);
  const output = new FileOutput({
    path: file,
    sink,
    stats: newFileStats(),
    newTransform: format === "raw" ? undefined : () => createTransform(jsonConfig(format === "multiline" ? { multiline: "^\\d" } : {}), file),
    countLines: false,
  });
  output.reset(fh, { dev: "1", ino: "1", fingerprint: "f", fingerprintLength: 1 }, 0);
  void output.emit(TEXT, 0, TEXT.length);
  await new Promise((r) => setTimeout(r, 50));
  sink.halt();
  // The reader takes everything; the write parked at the halt (4 KiB at most) may complete then,
  // and its callback moves the resume point on, as the shutdown's second save would see.
  const got = [readAvailable(reader)];
  await new Promise((r) => setTimeout(r, 50));
  got.push(readAvailable(reader));
  return { output, got: Buffer.concat(got) };
}

test("raw: a batch the pipe took in part resumes at the exact byte, inside a line", async (t) => {
  const { output, got } = await halfWritten(t, "raw");
  assert.ok(got.length > 0 && got.length < TEXT.length);
  const point = output.resumePoint(true);
  assert.equal(point.offset, got.length, "the offset is the byte the pipe took");
  assert.equal(point.midLine, TEXT[got.length - 1] === 0x0a ? undefined : true);
  assert.equal(point.pending, undefined, "raw owes nothing: the file has the bytes");
  assert.deepEqual(output.resumePoint(false), { offset: 0 }, "a periodic save stays at the acknowledged line boundary");
});

test("json: a record the pipe cut is owed to its end, and reading resumes after its line", async (t) => {
  const { output, got } = await halfWritten(t, "json");
  const point = output.resumePoint(true);
  assert.ok(point.pending && point.pending.length < 200, `owed: the rest of one record (${point.pending?.length} B)`);
  const stream = Buffer.concat([got, point.pending]).toString();
  const records = stream.split("\n");
  assert.equal(records.pop(), "", "the owed bytes end the cut record");
  const logs = records.map((r) => (JSON.parse(r) as { log: string }).log);
  assert.deepEqual(logs, LINES.slice(0, logs.length), "whole records of the first lines, in order");
  assert.equal(point.offset, Buffer.byteLength(LINES.slice(0, logs.length).join("\n") + "\n"), "reading resumes at the first line with no record yet");
});

test("multiline json: records and lines do not pair up, so the rest of the batch is owed and reading resumes after its input", async (t) => {
  const { output, got } = await halfWritten(t, "multiline");
  const point = output.resumePoint(true);
  assert.ok(point.pending, "output is owed");
  const records = Buffer.concat([got, point.pending]).toString().split("\n");
  assert.equal(records.pop(), "", "the owed bytes end with a whole record");
  const logs = records.map((r) => (JSON.parse(r) as { log: string }).log);
  // The last line's record is held back (it may go on): the batch holds all the others.
  assert.deepEqual(logs, LINES.slice(0, -1));
  assert.equal(point.offset, TEXT.length - Buffer.byteLength(LINES.at(-1)! + "\n"), "reading resumes at the held record's line");
});

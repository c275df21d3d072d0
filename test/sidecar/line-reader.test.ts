// The read size is the reader's parameter (128 KiB to stdout, 1 MiB when forwarding): reads never
// exceed it, a line longer than it still comes out whole, and the buffer shrinks back after it.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { open } from "../../sidecar/files.ts";
import { LineReader } from "../../sidecar/line-reader.ts";

test("reads are at most the given size; a longer line grows the buffer and comes out whole", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-lr-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "a.log");
  const text = `short\n${"x".repeat(200)}\nb\n${`${"y".repeat(29)}\n`.repeat(12)}`;
  writeFileSync(file, text);
  const fh = await open(file);
  t.after(() => fh.close());
  const reader = new LineReader(1000, 64);
  const reads: number[] = [];
  let out = "";
  for (let i = 0; i < 100; i++) {
    const chunk = await reader.read(fh);
    if (chunk === "eof") break;
    assert.notEqual(chunk, "changed");
    if (chunk === "changed") return;
    reads.push(chunk.bytesRead);
    out += chunk.lines.toString();
    reader.commit();
  }
  assert.equal(out, text);
  assert.equal(reads[0], 64, "the first read fills the 64-byte buffer, no more");
  assert.ok(reads.some((n) => n > 64), `the 200-byte line grew the buffer: reads ${reads.join(",")}`);
  assert.equal(reads.at(-1)! <= 64, true, `back to 64-byte reads after the long line: ${reads.join(",")}`);
});

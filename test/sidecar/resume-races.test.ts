// A file that changes while a follower resumes from its checkpoint, or right after: truncated and
// refilled, then renamed, at every moment the resume looks at the path; and truncated and refilled
// past the checkpoint offset before anything new was appended. Deterministic: Followers stepped by
// hand, the writer's moves placed through node:fs's CommonJS object, which sidecar/files.ts calls
// at run time (the model test found both shapes at random, about one run in seven).
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, renameSync, truncateSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseSidecarConfig } from "../../sidecar/config.ts";
import type { Checkpoint } from "../../sidecar/checkpoint.ts";
import { FileOwners } from "../../sidecar/file-owners.ts";
import { Follower } from "../../sidecar/follower.ts";
import type { Batch, Sink } from "../../sidecar/sink.ts";
import { newFileStats, type FileStats } from "../../sidecar/stats.ts";
import { assertExactlyOnce, numberedLines, tempDir } from "./harness.ts";

class MemorySink implements Sink {
  readonly chunks: Buffer[] = [];
  async write(batch: Batch): Promise<void> {
    this.chunks.push(Buffer.from(batch.data));
  }
}

function follower(t: TestContext, file: string, sink: Sink, checkpoint: Checkpoint | undefined, stats: FileStats = newFileStats()): Follower {
  const config = parseSidecarConfig(["--file", file], {});
  const f = new Follower({ path: file, config, sink, stats, checkpoint, newTransform: undefined, countLines: false, owners: new FileOwners() });
  t.after(() => f.close());
  return f;
}

async function settle(f: Follower, pathHint = false): Promise<void> {
  for (let i = 0; i < 1000; i++) if ((await f.step(false, pathHint && i === 0)) === "idle") return;
  throw new Error("the follower never went idle");
}

/** A follower reads `file` to its end and stops: its checkpoint, and what it wrote. */
async function readAndStop(t: TestContext, file: string, sink: MemorySink): Promise<Checkpoint> {
  const first = follower(t, file, sink, undefined);
  await settle(first);
  const cp = await first.checkpoint();
  assert.ok(cp, "a checkpoint for the file read");
  await first.close();
  return cp;
}

/**
 * Runs `move` once, just before the `nth` look at `path` by name (a stat, an open, or a listing
 * of its directory). Returns whether it has run.
 */
function beforeNthLook(t: TestContext, path: string, nth: number, move: () => void): () => boolean {
  const fs = process.getBuiltinModule("node:fs");
  let looks = 0;
  let moved = false;
  const watch = (name: "statSync" | "openSync" | "readdirSync", at: string): void => {
    const real = (fs[name] as (...a: unknown[]) => unknown).bind(fs);
    t.mock.method(fs, name, (...args: unknown[]) => {
      if (!moved && String(args[0]) === at && ++looks === nth) {
        moved = true;
        move();
      }
      return real(...args);
    });
  };
  watch("statSync", path);
  watch("openSync", path);
  watch("readdirSync", dirname(path));
  return () => moved;
}

test("truncated and refilled while stopped, then renamed at any moment of the resume: the refilled lines are read once", async (t) => {
  // Every moment the resume looks at the path, then once it is done: k past its last look is the
  // last case (the rename comes after the resume, while the file is being read).
  let resumeLooks: number | undefined;
  for (let k = 1; resumeLooks === undefined; k++) {
    assert.ok(k <= 40, "the resume looks at the path at most 40 times");
    const sink = new MemorySink();
    const file = join(tempDir(t), "app.log");
    writeFileSync(file, numberedLines(1, 1000));
    const cp = await readAndStop(t, file, sink);
    truncateSync(file, 0);
    appendFileSync(file, numberedLines(1001, 1613));
    await t.test(`renamed before look ${k}`, async (t) => {
      const rename = (): void => renameSync(file, `${file}.1`);
      const moved = beforeNthLook(t, file, k, rename);
      const second = follower(t, file, sink, cp);
      await second.step(false, false); // the resume
      const duringResume = moved();
      t.mock.restoreAll();
      if (!duringResume) rename();
      await settle(second, true);
      await settle(second, true);
      assertExactlyOnce(Buffer.concat(sink.chunks), 1613);
      if (!duringResume) resumeLooks = k - 1;
    });
  }
  t.diagnostic(`the resume looked at the path ${resumeLooks} times`);
});

test("resumed at the end of the file, then truncated and refilled past the checkpoint offset before any append: read from the start, once", async (t) => {
  const sink = new MemorySink();
  const file = join(tempDir(t), "app.log");
  writeFileSync(file, numberedLines(1, 99)); // 288 bytes
  const cp = await readAndStop(t, file, sink);
  const stats = newFileStats();
  const second = follower(t, file, sink, cp, stats);
  await settle(second);
  // 4 bytes a line from here: a read from the old offset would start at line 172 of the new content.
  truncateSync(file, 0);
  appendFileSync(file, numberedLines(100, 1099));
  await settle(second, true);
  await settle(second, true);
  assertExactlyOnce(Buffer.concat(sink.chunks), 1099);
  assert.equal(stats.truncations, 1);
});

// The drain of the old file after a rename rotation: lines the writer puts into the old file after
// the rename reach us only through the old descriptor (or, after a restart, through the rotated
// name resume.ts finds). Deterministic: a Follower stepped by hand, with the writer's moves placed
// at the exact moment the follower looks at the path, and a stopped sidecar for the restart case.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseSidecarConfig } from "../../sidecar/config.ts";
import { FileOwners } from "../../sidecar/file-owners.ts";
import { Follower } from "../../sidecar/follower.ts";
import type { Batch, Sink } from "../../sidecar/sink.ts";
import { newFileStats, type FileStats } from "../../sidecar/stats.ts";
import { assertExactlyOnce, numberedLines, startSidecar, tempDir, until, waitForLines } from "./harness.ts";

class MemorySink implements Sink {
  readonly chunks: Buffer[] = [];
  async write(batch: Batch): Promise<void> {
    this.chunks.push(Buffer.from(batch.data));
  }
  output(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

interface Rig {
  readonly file: string;
  readonly sink: MemorySink;
  readonly stats: FileStats;
  readonly follower: Follower;
  /** Steps until the follower has nothing to do (bounded). */
  settle(pathHint?: boolean): Promise<void>;
}

function rig(t: TestContext): Rig {
  // The clock stands still: the 2 s rotation grace (an old file quiet that long is let go) and the
  // partial-line flush never expire on their own, whatever the machine's load.
  t.mock.timers.enable({ apis: ["Date"], now: Date.now() });
  const file = join(tempDir(t), "app.log");
  const sink = new MemorySink();
  const stats = newFileStats();
  const config = parseSidecarConfig(["--file", file], {});
  const follower = new Follower({ path: file, config, sink, stats, checkpoint: undefined, newTransform: undefined, countLines: false, owners: new FileOwners() });
  t.after(() => follower.close());
  return {
    file,
    sink,
    stats,
    follower,
    async settle(pathHint = false) {
      for (let i = 0; i < 1000; i++) if ((await follower.step(false, pathHint && i === 0)) === "idle") return;
      throw new Error("the follower never went idle");
    },
  };
}

/**
 * Runs `move` once, just before the follower's next stat of `path` by name: the moment it looks
 * at the path. Through node:fs's CommonJS object, which sidecar/files.ts calls at run time.
 */
function beforeNextStatOf(t: TestContext, path: string, move: () => void): { readonly moved: () => boolean } {
  const fs = process.getBuiltinModule("node:fs");
  const real = fs.statSync.bind(fs);
  let pending = true;
  t.mock.method(fs, "statSync", (...args: Parameters<typeof fs.statSync>) => {
    if (pending && String(args[0]) === path) {
      pending = false;
      move();
    }
    return real(...args);
  });
  return { moved: () => !pending };
}

test("the writer's last lines into the renamed file, written after we last read it and before we saw the new file, are read before the new file", async (t) => {
  const r = rig(t);
  writeFileSync(r.file, numberedLines(1, 1000));
  await r.settle();
  renameSync(r.file, `${r.file}.1`);
  // The writer finishes its old file, then starts the new one, between our last read of the old
  // file and our look at the path: only a read of the old descriptor after that look has them.
  const writer = beforeNextStatOf(t, r.file, () => {
    appendFileSync(`${r.file}.1`, numberedLines(1001, 2000));
    writeFileSync(r.file, numberedLines(2001, 3000));
  });
  await r.settle(true);
  assert.ok(writer.moved(), "the follower looked at the path by name (through node:fs statSync)");
  await r.settle();
  assertExactlyOnce(r.sink.output(), 3000);
  assert.equal(r.stats.rotations, 1);
});

test("after a rename to an empty new file, lines still written to the old file are read, then the new file's", async (t) => {
  const r = rig(t);
  writeFileSync(r.file, numberedLines(1, 1000));
  await r.settle();
  renameSync(r.file, `${r.file}.1`);
  writeFileSync(r.file, "");
  await r.settle(true); // we see the rotation while the new file is still empty
  const rotationsWhileEmpty = r.stats.rotations;
  appendFileSync(`${r.file}.1`, numberedLines(1001, 2000));
  appendFileSync(r.file, numberedLines(2001, 3000));
  await r.settle(true);
  await r.settle();
  assertExactlyOnce(r.sink.output(), 3000);
  assert.equal(rotationsWhileEmpty, 0, "the old file is kept while the new one is empty");
  assert.equal(r.stats.rotations, 1);
});

test("the old file's unfinished last line is written (with a newline) before the new file's first line", async (t) => {
  const r = rig(t);
  writeFileSync(r.file, `${numberedLines(1, 999)}1000`);
  await r.settle();
  renameSync(r.file, `${r.file}.1`);
  writeFileSync(r.file, numberedLines(1001, 2000));
  await r.settle(true);
  await r.settle();
  assertExactlyOnce(r.sink.output(), 2000);
});

test("stopped with a checkpoint, lines appended, renamed to app.log.1, a new app.log: after the restart the old file's rest, then the new file, exactly once", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const args = ["--file", file, "--checkpoint-dir", join(dir, "checkpoints")];
  writeFileSync(file, numberedLines(1, 1000));
  const first = startSidecar(t, args);
  await waitForLines(first, 1000, 10_000);
  assert.equal(await first.stop("SIGTERM"), 0);
  // While it is down the writer goes on in the old file, before and after the rename.
  appendFileSync(file, numberedLines(1001, 2000));
  renameSync(file, `${file}.1`);
  appendFileSync(`${file}.1`, numberedLines(2001, 3000));
  writeFileSync(file, numberedLines(3001, 4000));
  const second = startSidecar(t, args);
  // The new file's last line comes last: once it is out, everything that will come is out.
  await until(() => second.stdout().toString("latin1").endsWith("\n4000\n"), 10_000, () => `line 4000; stderr: ${second.stderr()}`);
  assert.equal(await second.stop("SIGTERM"), 0);
  assertExactlyOnce(Buffer.concat([first.stdout(), second.stdout()]), 4000);
  assert.ok(second.diagnostics().some((d) => d.msg === "finishing a file rotated while stopped, then following the path"), second.stderr());
});

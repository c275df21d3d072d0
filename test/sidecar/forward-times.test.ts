// The tailer, forwarding, gives each raw batch times by offset (sidecar/line-times.ts), and the
// anchor those times come from is in the checkpoint file on disk before the sink sees the batch:
// that is what lets a restart after a SIGKILL give the lines it sends again the same times.
import assert from "node:assert/strict";
import { appendFileSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { checkpointFile, type Checkpoint } from "../../sidecar/checkpoint.ts";
import { parseSidecarConfig } from "../../sidecar/config.ts";
import { timeAt } from "../../sidecar/line-times.ts";
import type { Batch, Sink } from "../../sidecar/sink.ts";
import { startTailer } from "../../sidecar/tailer.ts";
import { tempDir, until } from "./harness.ts";

interface Seen {
  readonly batch: Batch;
  /** The checkpoint file's time anchor at the moment the sink was handed the batch. */
  readonly saved: Checkpoint["times"];
}

/** Acknowledges at once; notes what the checkpoint file held when each batch came. */
class RecordingSink implements Sink {
  readonly seen: Seen[] = [];
  lines = 0;
  readonly #cpFile: string;
  constructor(cpFile: string) {
    this.#cpFile = cpFile;
  }
  async write(batch: Batch): Promise<void> {
    let saved: Checkpoint["times"];
    try {
      saved = (JSON.parse(readFileSync(this.#cpFile, "utf8")) as Checkpoint).times;
    } catch {
      saved = undefined;
    }
    this.seen.push({ batch: { ...batch, data: Buffer.from(batch.data) }, saved });
    for (let i = batch.data.indexOf(10); i >= 0; i = batch.data.indexOf(10, i + 1)) this.lines++;
  }
}

function lines(from: number, to: number): string {
  let s = "";
  for (let n = from; n < to; n++) s += `line ${String(n).padStart(6, "0")}\n`;
  return s;
}

test("forwarding: each batch's time anchor is saved in the checkpoint before the batch is sent; times increase across quiet spells and a rotation", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const cp = join(dir, "cp");
  const config = parseSidecarConfig(["--file", file, "--checkpoint-dir", cp, "--sink", "loki", "--endpoint", "http://127.0.0.1:9", "--poll-interval", "50ms", "--checkpoint-interval", "100ms"], {});
  const sink = new RecordingSink(checkpointFile(cp, file));
  appendFileSync(file, lines(0, 1000));
  const tailer = await startTailer({ config, sink });
  let written = 1000;
  // Quiet spells longer than the checkpoint interval: the times fall behind the clock, new anchors.
  for (let round = 0; round < 3; round++) {
    await until(() => sink.lines >= written, 10_000, "the tailer to catch up");
    await sleep(250);
    appendFileSync(file, lines(written, written + 500));
    written += 500;
  }
  await until(() => sink.lines >= written, 10_000, "the tailer to catch up");
  renameSync(file, `${file}.1`);
  appendFileSync(file, lines(written, written + 500));
  written += 500;
  await until(() => sink.lines >= written, 10_000, "the tailer to read the new file");
  tailer.stop();
  await tailer.done;

  let last = 0n;
  const anchors = new Set<string>();
  for (const { batch, saved } of sink.seen) {
    assert.ok(batch.times && batch.startOffset !== undefined, "a raw forwarded batch without times");
    assert.ok(saved, `batch at ${batch.startOffset} sent before any anchor was saved`);
    const end = batch.startOffset + batch.data.length;
    assert.deepEqual([saved.fileKey, saved.from, BigInt(saved.ns)], [batch.fileKey, batch.times.from, batch.times.ns], `batch at ${batch.startOffset}: its anchor is not the one on disk`);
    assert.ok(saved.until >= end, `batch [${batch.startOffset}, ${end}) runs past the saved lease ${saved.until}`);
    const first = timeAt(batch.times, batch.startOffset);
    assert.ok(first > last, `times went back at offset ${batch.startOffset} of ${batch.fileKey}`);
    last = timeAt(batch.times, end - 1);
    anchors.add(`${saved.fileKey}@${saved.from}`);
  }
  // One at the start, one after each quiet spell, one for the new file.
  assert.ok(anchors.size >= 5, `only ${anchors.size} anchors: ${[...anchors].join(", ")}`);
  // A line's time is at most the checkpoint interval behind the clock: within a few seconds of now.
  assert.ok(Number(BigInt(Date.now()) * 1_000_000n - last) < 5e9);
});

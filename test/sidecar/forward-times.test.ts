// The tailer, forwarding, gives each raw batch times by offset (sidecar/line-times.ts), and the
// anchor those times come from is in the checkpoint file on disk before the sink sees the batch:
// that is what lets a restart after a SIGKILL give the lines it sends again the same times.
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
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
  /** The checkpoint file as it was when each batch came: what a SIGKILL during its sending leaves. */
  readonly snapshots: string[] = [];
  lines = 0;
  readonly #cpFile: string;
  constructor(cpFile: string) {
    this.#cpFile = cpFile;
  }
  async write(batch: Batch): Promise<void> {
    let saved: Checkpoint["times"];
    let text = "";
    try {
      text = readFileSync(this.#cpFile, "utf8");
      saved = (JSON.parse(text) as Checkpoint).times;
    } catch {
      saved = undefined;
    }
    this.snapshots.push(text);
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

/** Each line's time by offset, from what a sink was handed. */
function timesByOffset(seen: readonly Seen[]): Map<number, bigint> {
  const times = new Map<number, bigint>();
  for (const { batch } of seen) {
    const start = batch.startOffset!;
    for (let i = 0; i < batch.data.length; i = batch.data.indexOf(10, i) + 1) times.set(start + i, timeAt(batch.times!, start + i));
  }
  return times;
}

test("forwarding: a restart from the checkpoint as it was while any batch was being sent gives every line sent until then the time it had", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const args = (cp: string): string[] => ["--file", file, "--checkpoint-dir", cp, "--sink", "otlp", "--endpoint", "http://127.0.0.1:9", "--poll-interval", "50ms", "--checkpoint-interval", "100ms"];
  const cp = join(dir, "cp");
  const first = new RecordingSink(checkpointFile(cp, file));
  const tailer = await startTailer({ config: parseSidecarConfig(args(cp), {}), sink: first });
  let written = 0;
  // Batches of 300 lines, quiet spells longer than the checkpoint interval between some: new anchors and periodic saves in between.
  for (let round = 0; round < 10; round++) {
    appendFileSync(file, lines(written, written + 300));
    written += 300;
    await until(() => first.lines >= written, 10_000, "the tailer to catch up");
    await sleep(round % 2 === 0 ? 250 : 30);
  }
  tailer.stop();
  await tailer.done;
  const firstTimes = timesByOffset(first.seen);
  let replayed = 0;
  for (const [k, snapshot] of first.snapshots.entries()) {
    if (snapshot === "") continue; // nothing saved yet: a restart reads from the start, with new times for lines no backend holds with others
    const cpK = join(dir, `cp-${k}`);
    mkdirSync(cpK);
    writeFileSync(checkpointFile(cpK, file), snapshot);
    const again = new RecordingSink(checkpointFile(cpK, file));
    const restarted = await startTailer({ config: parseSidecarConfig(args(cpK), {}), sink: again });
    const from = (JSON.parse(snapshot) as Checkpoint).offset;
    const sentBefore = first.seen[k]!.batch.startOffset! + first.seen[k]!.batch.data.length;
    await until(() => again.seen.some(({ batch }) => batch.startOffset! + batch.data.length >= sentBefore), 10_000, `the restart from snapshot ${k} to send up to ${sentBefore}`);
    restarted.stop();
    await restarted.done;
    for (const [offset, time] of timesByOffset(again.seen)) {
      if (offset >= sentBefore) continue; // not sent before the crash: free to differ
      assert.ok(offset >= from);
      assert.equal(time, firstTimes.get(offset), `snapshot ${k}: the line at ${offset} was sent again with another time`);
      replayed++;
    }
  }
  t.diagnostic(`${first.snapshots.length} crash points, ${replayed} lines sent again, each with its first time`);
  assert.ok(replayed > 0);
});

test("forwarding: a checkpoint directory that cannot be written does not hold the lines back; the failed saves are counted", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const blocker = join(dir, "not-a-dir");
  writeFileSync(blocker, "");
  const config = parseSidecarConfig(["--file", file, "--checkpoint-dir", join(blocker, "cp"), "--sink", "loki", "--endpoint", "http://127.0.0.1:9", "--poll-interval", "50ms", "--checkpoint-interval", "100ms"], {});
  const sink = new RecordingSink(join(blocker, "cp", "none.json"));
  appendFileSync(file, lines(0, 2000));
  const tailer = await startTailer({ config, sink });
  await until(() => sink.lines >= 2000, 10_000, "the lines to reach the sink");
  tailer.stop();
  await tailer.done;
  assert.ok(sink.seen.every(({ batch }) => batch.times !== undefined));
  assert.ok(tailer.stats.checkpointSaveFailures >= 1, `${tailer.stats.checkpointSaveFailures} failures counted`);
});

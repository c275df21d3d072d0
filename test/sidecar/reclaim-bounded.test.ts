// Bounded disk (--reclaim): 1 GiB written through one file that is never rotated, the real sidecar
// following it with reclaim on. The file's disk blocks (st_blocks) stay under a bound during the run
// and after it, while its size grows to 1 GiB; every line arrives exactly once, in order. The writer
// keeps at most LEAD bytes ahead of what stdout delivered (an app writing faster than any tailer
// reads would grow the unread tail, which reclaim never frees), at up to RATE bytes a second.
// Two bounds: a fixed one, and "near the unread tail": at most what lies past the checkpoint before
// the latest one seen (the latest one's punch may still run) plus a step.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, readSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { CLI, runtimePipe, tempDir } from "./harness.ts";

const MiB = 1024 * 1024;
const TOTAL = 1024 * MiB;
const LINE = 1024; // "<10 digits> xxx…x\n"
const CHUNK = 1 * MiB; // one write: 1024 lines
const STEP = 16 * MiB; // --reclaim
const LEAD = 64 * MiB; // the writer's most bytes ahead of delivery
const RATE = 128 * MiB; // bytes a second at most
/** Disk the file may use while it is written: the unread tail (LEAD), a step, and what is delivered but not yet checkpointed and punched (a checkpoint interval of 250 ms and the save and punch after it, up to 0.5 s at RATE). */
const BOUND_DURING = LEAD + STEP + 128 * MiB;
/** Over what lies past the checkpoint before the latest: the kept first block, partial blocks. */
const SLACK = 64 * 1024;
/** After the last checkpoint: less than a step left unfreed, the kept first block, the last blocks. */
const BOUND_AFTER = STEP + 64 * 1024;

/** A chunk of lines first..first+1023, each LINE bytes. */
function fillChunk(buf: Buffer, first: number): void {
  for (let i = 0; i < CHUNK / LINE; i++) {
    let n = first + i;
    const at = i * LINE;
    for (let d = 9; d >= 0; d--) {
      buf[at + d] = 0x30 + (n % 10);
      n = Math.floor(n / 10);
    }
  }
}

function template(): Buffer {
  const buf = Buffer.alloc(CHUNK, "x");
  for (let at = 0; at < CHUNK; at += LINE) {
    buf[at + 10] = 0x20;
    buf[at + LINE - 1] = 0x0a;
  }
  return buf;
}

/** Checks stdout as it streams: whole lines of LINE bytes numbered 1, 2, 3, … (none kept). */
class LineChecker {
  next = 1;
  bytes = 0;
  #carry = Buffer.alloc(0);
  problem: string | undefined;

  take(data: Buffer): void {
    this.bytes += data.length;
    const buf = this.#carry.length > 0 ? Buffer.concat([this.#carry, data]) : data;
    let at = 0;
    for (; at + LINE <= buf.length && this.problem === undefined; at += LINE) {
      let n = 0;
      for (let d = 0; d < 10; d++) n = n * 10 + (buf[at + d]! - 0x30);
      if (buf[at + 10] !== 0x20 || buf[at + LINE - 1] !== 0x0a || buf[at + LINE - 2] !== 0x78) this.problem = `line ${this.next}: not a line of the writer's (${JSON.stringify(buf.subarray(at, at + 16).toString("latin1"))}…)`;
      else if (n !== this.next) this.problem = `line ${this.next} expected, got ${n} (${n < this.next ? "doubled" : "lost"})`;
      this.next++;
    }
    this.#carry = Buffer.from(buf.subarray(at));
  }
}

test("with --reclaim, 1 GiB through a file never rotated takes a bounded disk, and every line arrives exactly once", { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t, "tailcar-reclaim-");
  const file = join(dir, "app.log");
  const fd = openSync(file, "a");
  t.after(() => closeSync(fd));
  const pipe = runtimePipe();
  const started = performance.now();
  const child = spawn(process.execPath, [CLI, "sidecar", "--file", file, "--checkpoint-dir", join(dir, "cp"), "--reclaim", "16Mi", "--checkpoint-interval", "250ms"], { stdio: ["ignore", pipe.childEnd, "pipe"] });
  closeSync(pipe.childEnd);
  t.after(() => child.kill("SIGKILL"));
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  const checker = new LineChecker();
  pipe.ours.on("data", (b: Buffer) => checker.take(b));

  const chunk = template();
  let written = 0;
  let maxBlocks = 0;
  let maxAhead = 0;
  let maxOverTail = 0;
  const blocks = (): number => fstatSync(fd).blocks * 512;
  // The offsets of the last two checkpoints seen (saves may happen between looks: then an older one
  // stands for the one before the latest, which only loosens the bound).
  const cpDir = join(dir, "cp");
  let latest = 0;
  let before = 0;
  const lookAtCheckpoint = (): void => {
    const name = readdirSync(cpDir).find((n) => n.endsWith(".json"));
    if (name === undefined) return;
    let offset: number;
    try {
      offset = (JSON.parse(readFileSync(join(cpDir, name), "utf8")) as { offset: number }).offset;
    } catch {
      return; // replaced between the listing and the read
    }
    if (offset !== latest) [before, latest] = [latest, offset];
  };
  const checkNearTail = (): void => {
    lookAtCheckpoint();
    const used = blocks();
    maxOverTail = Math.max(maxOverTail, used - (written - before));
    assert.ok(used <= written - before + STEP + SLACK, `disk used ${used} bytes > ${written} written - ${before} (the checkpoint before the latest) + a step of ${STEP} + ${SLACK}; stderr: ${stderr.slice(-2000)}`);
  };
  while (written < TOTAL) {
    assert.equal(checker.problem, undefined, checker.problem);
    assert.equal(child.exitCode, null, `sidecar exited: ${stderr.slice(-2000)}`);
    const allowed = Math.min(TOTAL, checker.bytes + LEAD, ((performance.now() - started) / 1000) * RATE);
    while (written + CHUNK <= allowed) {
      fillChunk(chunk, written / LINE + 1);
      for (let off = 0; off < CHUNK; ) off += writeSync(fd, chunk, off, CHUNK - off);
      written += CHUNK;
      maxAhead = Math.max(maxAhead, written - checker.bytes);
    }
    maxBlocks = Math.max(maxBlocks, blocks());
    if (existsSync(cpDir)) checkNearTail();
    assert.ok(maxBlocks <= BOUND_DURING, `disk used ${(maxBlocks / MiB).toFixed(1)} MiB > ${BOUND_DURING / MiB} MiB with ${(written / MiB).toFixed(0)} MiB written, ${(checker.bytes / MiB).toFixed(0)} delivered; stderr: ${stderr.slice(-2000)}`);
    await sleep(5);
  }
  const deliveredAll = Date.now() + 60_000;
  while (checker.bytes < TOTAL && Date.now() < deliveredAll && checker.problem === undefined) {
    maxBlocks = Math.max(maxBlocks, blocks());
    checkNearTail();
    await sleep(20);
  }
  assert.equal(checker.problem, undefined, checker.problem);
  assert.equal(checker.bytes, TOTAL, `delivered ${checker.bytes} of ${TOTAL} bytes; stderr: ${stderr.slice(-2000)}`);
  const streamed = performance.now();
  // The last checkpoint, and the punch after it.
  const settled = Date.now() + 10_000;
  while (blocks() > BOUND_AFTER && Date.now() < settled) await sleep(50);
  const after = blocks();
  child.kill("SIGTERM");
  await new Promise((resolve) => child.once("exit", resolve));
  await sleep(50);
  assert.equal(checker.problem, undefined, checker.problem);
  assert.equal(checker.next - 1, TOTAL / LINE, "every line once");
  assert.equal(statSync(file).size, TOTAL, "the file keeps its size");
  t.diagnostic(
    `1 GiB in ${((streamed - started) / 1000).toFixed(1)} s; disk used at most ${(maxBlocks / MiB).toFixed(1)} MiB during (bound ${BOUND_DURING / MiB} MiB, writer at most ${(maxAhead / MiB).toFixed(0)} MiB ahead; at most ${(maxOverTail / MiB).toFixed(1)} MiB over what lies past the checkpoint before the latest, bound ${STEP / MiB} MiB + ${SLACK / 1024} KiB), ${(after / 1024).toFixed(0)} KiB after (bound ${BOUND_AFTER / 1024} KiB)`,
  );
  assert.ok(after <= BOUND_AFTER, `disk used after the run: ${after} bytes > ${BOUND_AFTER}`);
  // The kept first block (the file's identity) and a freed range that reads as zeros.
  const head = Buffer.alloc(16);
  const zeros = Buffer.alloc(16);
  const rfd = openSync(file, "r");
  try {
    readSync(rfd, head, 0, 16, 0);
    readSync(rfd, zeros, 0, 16, 512 * MiB);
  } finally {
    closeSync(rfd);
  }
  assert.equal(head.toString("latin1"), "0000000001 xxxxx");
  assert.deepEqual(zeros, Buffer.alloc(16));
});

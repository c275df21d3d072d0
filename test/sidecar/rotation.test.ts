// Rotation by rename+create while a writer appends at 50,000+ lines/s: every number exactly once, in order.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type Sidecar, assertExactlyOnce, checkSequence, describe, parseNumbers, startSidecar, startWriter, tempDir, until, waitForLines, waitUntilFollowing } from "./harness.ts";

const RATE = 60_000;

/** On a timeout, says which numbers are missing and which file holds what, then rethrows. */
function explain(dir: string, sidecar: Sidecar, count: number): (e: unknown) => Promise<never> {
  return async (e) => {
    await sidecar.stop();
    const r = checkSequence(parseNumbers(sidecar.stdout()), count);
    const files = execFileSync("sh", ["-c", `cd ${dir} && for f in app.log*; do echo $f: $(head -1 $f) .. $(tail -1 $f), $(wc -l < $f) lines; done`]).toString();
    throw new Error(`${(e as Error).message}\n${describe(r)}: first missing ${r.missing.slice(0, 3).join(", ")}\n${files}`);
  };
}

test("rename+create rotation 20+ times under a 60,000 lines/s writer loses and doubles nothing", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, "");
  const sidecar = startSidecar(t, ["--file", file]);
  await waitUntilFollowing(sidecar);
  const count = 300_000;
  const writer = startWriter(t, file, { count, rate: RATE, batch: 300 });
  let rotations = 0;
  const started = Date.now();
  while (rotations < 22 && Date.now() - started < 4500) {
    await sleep(100);
    // Rotate only a file the writer has written to since the last rotation (it may start slowly).
    await until(() => (statSync(file, { throwIfNoEntry: false })?.size ?? 0) > 0, 5000, "the writer to write into the new file");
    renameSync(file, `${file}.${++rotations}`);
  }
  const last = await writer.done;
  assert.equal(last, count);
  assert.ok(rotations >= 20, `only ${rotations} rotations happened while the writer ran`);
  await waitForLines(sidecar, count, 20_000).catch(explain(dir, sidecar, count));
  assert.equal(await sidecar.stop(), 0);
  assertExactlyOnce(sidecar.stdout(), count);
  const seen = sidecar.diagnostics().filter((d) => d.msg === "file rotated: old file read to its end, following the new one").length;
  assert.equal(seen, rotations, "every rotation is noticed");
});

test("logrotate with create, run 5-8 times under a 50,000 lines/s writer, loses and doubles nothing", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const conf = join(dir, "logrotate.conf");
  writeFileSync(file, "");
  const sidecar = startSidecar(t, ["--file", file]);
  await waitUntilFollowing(sidecar);
  const count = 250_000;
  // A daemon under logrotate `create` reopens its file when postrotate signals it.
  const writer = startWriter(t, file, { count, rate: 50_000, batch: 250, reopen: "hup" });
  const postrotate = `kill -HUP ${writer.child.pid} || true`; // the writer may just have finished
  writeFileSync(conf, `${file} {\n  create\n  rotate 100\n  missingok\n  nocompress\n  postrotate\n    ${postrotate}\n  endscript\n}\n`);
  await until(() => (statSync(file).size ?? 0) > 0, 5000, "the writer to start");
  let runs = 0;
  while (runs < 8 && writer.child.exitCode === null) {
    await sleep(250);
    execFileSync("logrotate", ["-f", "-s", join(dir, "state"), conf]);
    runs++;
  }
  assert.ok(runs >= 5, `only ${runs} logrotate runs while the writer ran`);
  assert.equal(await writer.done, count);
  await waitForLines(sidecar, count, 20_000).catch(explain(dir, sidecar, count));
  assert.equal(await sidecar.stop(), 0);
  assertExactlyOnce(sidecar.stdout(), count);
});

test("two rotations while the sidecar is stopped (SIGSTOP): the generation never seen at the path is read in between", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const numbered = (from: number, to: number): string => Array.from({ length: to - from + 1 }, (_, i) => `${from + i}\n`).join("");
  writeFileSync(file, numbered(1, 1000));
  const sidecar = startSidecar(t, ["--file", file, "--poll-interval", "100ms"]);
  await waitUntilFollowing(sidecar);
  await waitForLines(sidecar, 1000, 5000);
  process.kill(sidecar.pid, "SIGSTOP");
  try {
    appendFileSync(file, numbered(1001, 2000));
    renameSync(file, `${file}.1`);
    writeFileSync(file, numbered(2001, 3000));
    await sleep(20); // a generation lives longer than one file-clock tick
    renameSync(file, `${file}.2`);
    writeFileSync(file, numbered(3001, 4000));
  } finally {
    process.kill(sidecar.pid, "SIGCONT");
  }
  await waitForLines(sidecar, 4000, 10_000).catch(explain(dir, sidecar, 4000));
  assert.equal(await sidecar.stop(), 0);
  assertExactlyOnce(sidecar.stdout(), 4000);
});

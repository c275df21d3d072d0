// One behaviour per test, each with real files and the built CLI: a late file, a huge line, a
// partial line, truncation, delete+recreate, a symlink switch, and inode reuse across a restart.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, openSync, closeSync, renameSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { LINE_CONTINUES_MARKER } from "../../sidecar/framing.ts";
import { assertExactlyOnce, numberedLines as lines, startSidecar, tempDir, until, waitForLines } from "./harness.ts";

const FAST = ["--poll-interval", "100ms"];

test("a file that appears 2 s after start is picked up, with one notice on stderr", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "late.log");
  const sidecar = startSidecar(t, ["--file", file, ...FAST]);
  await sleep(2000);
  writeFileSync(file, lines(1, 1000));
  await waitForLines(sidecar, 1000, 5000);
  assert.equal(await sidecar.stop(), 0);
  assertExactlyOnce(sidecar.stdout(), 1000);
  const notices = sidecar.diagnostics().filter((d) => d.msg === "file does not exist yet: waiting for it");
  assert.equal(notices.length, 1, `one notice, got: ${sidecar.stderr()}`);
});

test("a 5 MiB line is split into 1 MiB pieces with a marker, nothing lost, lines around it intact", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "long.log");
  // Varied content, so a piece out of place or missing would show.
  let long = "";
  for (let i = 0; long.length < 5 * 1024 * 1024; i++) long += `${i.toString(36)},`;
  long = long.slice(0, 5 * 1024 * 1024);
  writeFileSync(file, `before\n${long}\nafter\n`);
  const sidecar = startSidecar(t, ["--file", file, ...FAST]);
  await until(() => sidecar.stdout().toString("latin1").endsWith("after\n"), 15_000, "the line after the long one");
  assert.equal(await sidecar.stop(), 0);
  const out = sidecar.stdout().toString("latin1").split("\n");
  assert.equal(out[0], "before");
  const pieces = out.slice(1, -2);
  assert.equal(pieces.length, 5, "5 MiB at 1 MiB per piece");
  for (const p of pieces.slice(0, -1)) assert.ok(p.endsWith(LINE_CONTINUES_MARKER), "every piece but the last carries the marker");
  assert.ok(!pieces.at(-1)!.endsWith(LINE_CONTINUES_MARKER), "the last piece has no marker");
  const rejoined = pieces.map((p) => (p.endsWith(LINE_CONTINUES_MARKER) ? p.slice(0, -LINE_CONTINUES_MARKER.length) : p)).join("");
  assert.ok(rejoined === long, "the pieces rejoin to the original line");
  assert.equal(out.at(-2), "after");
});

test("a last line without newline is written after --partial-flush, and what follows is its own line", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "partial.log");
  writeFileSync(file, "1\n2\n");
  const sidecar = startSidecar(t, ["--file", file, "--partial-flush", "600ms", ...FAST]);
  await waitForLines(sidecar, 2, 5000);
  const wroteAt = Date.now();
  appendFileSync(file, "partial");
  await until(() => sidecar.stdout().toString().endsWith("partial\n"), 5000, "the partial line");
  const waited = Date.now() - wroteAt;
  assert.ok(waited >= 550, `the partial line was held ${waited} ms, less than --partial-flush`);
  appendFileSync(file, " continued\n3\n");
  await waitForLines(sidecar, 5, 5000);
  assert.equal(await sidecar.stop(), 0);
  assert.equal(sidecar.stdout().toString(), "1\n2\npartial\n continued\n3\n");
});

test("truncation to zero is detected and the file is read again from the start", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "trunc.log");
  writeFileSync(file, lines(1, 500));
  const sidecar = startSidecar(t, ["--file", file, ...FAST]);
  await waitForLines(sidecar, 500, 5000);
  truncateSync(file, 0);
  await sleep(300);
  appendFileSync(file, lines(501, 600));
  await waitForLines(sidecar, 600, 5000);
  assert.equal(await sidecar.stop(), 0);
  assertExactlyOnce(sidecar.stdout(), 600);
  assert.equal(sidecar.diagnostics().filter((d) => String(d.msg).startsWith("file truncated")).length, 1);
});

test("a deleted and recreated file is followed from its first line", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "del.log");
  writeFileSync(file, lines(1, 300));
  const sidecar = startSidecar(t, ["--file", file, ...FAST]);
  await waitForLines(sidecar, 300, 5000);
  unlinkSync(file);
  await sleep(400);
  writeFileSync(file, lines(301, 400));
  await waitForLines(sidecar, 400, 5000);
  assert.equal(await sidecar.stop(), 0);
  assertExactlyOnce(sidecar.stdout(), 400);
});

test("a symlink switched to another target: the old target is finished, then the new one followed", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const link = join(dir, "current.log");
  writeFileSync(join(dir, "a.log"), lines(1, 200));
  symlinkSync("a.log", link);
  const sidecar = startSidecar(t, ["--file", link, ...FAST]);
  await waitForLines(sidecar, 200, 5000);
  appendFileSync(join(dir, "a.log"), lines(201, 250));
  writeFileSync(join(dir, "b.log"), lines(251, 300));
  symlinkSync("b.log", join(dir, "next.log"));
  renameSync(join(dir, "next.log"), link); // atomic switch, as deploy tools do
  await waitForLines(sidecar, 300, 5000);
  assert.equal(await sidecar.stop(), 0);
  assertExactlyOnce(sidecar.stdout(), 300);
});

test("inode reuse across a restart: a new file with the checkpointed inode is read from 0, not from the old offset", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "reuse.log");
  const cp = join(dir, "cp");
  writeFileSync(file, lines(1, 100));
  const args = ["--file", file, "--checkpoint-dir", cp, ...FAST];
  const first = startSidecar(t, args);
  await waitForLines(first, 100, 5000);
  assert.equal(await first.stop(), 0);
  const ino = statSync(file).ino;
  unlinkSync(file);
  // Filesystems hand a freed inode out again soon; make the new file take it if we can.
  let reused = false;
  for (let i = 0; i < 50 && !reused; i++) {
    closeSync(openSync(file, "w"));
    reused = statSync(file).ino === ino;
    if (!reused) renameSync(file, join(dir, `other-${i}`));
  }
  // Longer than the old offset, so only the fingerprint can tell the files apart.
  writeFileSync(file, lines(1001, 1400));
  t.diagnostic(reused ? "the new file has the old inode" : "the filesystem did not reuse the inode: this run only proves a fresh file");
  const second = startSidecar(t, args);
  await waitForLines(second, 400, 5000);
  assert.equal(await second.stop(), 0);
  let expected = "";
  for (let i = 1001; i <= 1400; i++) expected += `${i}\n`;
  assert.equal(second.stdout().toString(), expected);
});

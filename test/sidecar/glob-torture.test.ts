// A glob entry under load: several matched files rotated at once while writers append at high
// rates, a file that appears late, an excluded file and rotated generations that the pattern also
// matches: every line of every followed file exactly once, in its file's order, and nothing else.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { checkSequence, describe, scrapeLabelled, startSidecar, startWriter, tempDir, until, type Sidecar } from "./harness.ts";

interface LogRecord {
  readonly file: string;
  readonly log: string;
}

function records(sidecar: Sidecar): LogRecord[] {
  const text = sidecar.stdout().toString("utf8");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as LogRecord);
}

/** The numbers each file's records carry ("<n>." as the writer fixture writes them). */
function numbersByFile(rs: readonly LogRecord[]): Map<string, number[]> {
  const by = new Map<string, number[]>();
  for (const r of rs) {
    const list = by.get(r.file) ?? by.set(r.file, []).get(r.file)!;
    list.push(Number.parseInt(r.log, 10));
  }
  return by;
}

function count(rs: readonly LogRecord[], file: string): number {
  return rs.reduce((n, r) => n + (r.file === file ? 1 : 0), 0);
}

test("four matched files rotated at once 15+ times under 4 x 15,000 lines/s, a late file, an excluded one: each line once, in order, no rotated generation followed", { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const names = ["a.log", "b.log", "c.log", "d.log"];
  for (const n of names) writeFileSync(join(dir, n), "");
  writeFileSync(join(dir, "skip.log"), "");
  // `*` matches the rotated generations (a.log.1 …) too: the glob must know them for what they are.
  const sidecar = startSidecar(t, ["--file", `${dir}/*!skip.log`, "--format", "json"]);
  await until(() => sidecar.diagnostics().filter((d) => d.msg === "following file").length >= names.length, 10_000, () => `the sidecar to follow the files; stderr: ${sidecar.stderr()}`);
  const per = 120_000;
  const writers = names.map((n) => startWriter(t, join(dir, n), { count: per, rate: 15_000, batch: 150 }));
  const skipWriter = startWriter(t, join(dir, "skip.log"), { count: 20_000, rate: 5_000, batch: 50 });
  let rotations = 0;
  const started = Date.now();
  let late: ReturnType<typeof startWriter> | undefined;
  while (rotations < 18 && Date.now() - started < 7000) {
    await sleep(150);
    for (const n of names) await until(() => (statSync(join(dir, n), { throwIfNoEntry: false })?.size ?? 0) > 0, 5000, `the writer of ${n} to write into its new file`);
    rotations++;
    for (const n of names) renameSync(join(dir, n), join(dir, `${n}.${rotations}`));
    if (rotations === 5) late = startWriter(t, join(dir, "late.log"), { count: 30_000, rate: 10_000, batch: 100 });
  }
  for (const w of writers) assert.equal(await w.done, per);
  assert.equal(await late!.done, 30_000);
  await skipWriter.done;
  assert.ok(rotations >= 15, `only ${rotations} rotations of all four files happened while the writers ran`);
  const expected = new Map([...names.map((n): [string, number] => [join(dir, n), per]), [join(dir, "late.log"), 30_000]]);
  const total = [...expected.values()].reduce((a, b) => a + b, 0);
  await until(() => records(sidecar).length >= total, 30_000, () => `${total} records (have ${records(sidecar).length}); stderr: ${sidecar.stderr().slice(-2000)}`);
  assert.equal(await sidecar.stop(), 0);
  const by = numbersByFile(records(sidecar));
  assert.deepEqual([...by.keys()].sort(), [...expected.keys()].sort(), "records come from the followed paths only: no rotated generation, no excluded file");
  for (const [file, n] of expected) {
    const r = checkSequence(by.get(file)!, n);
    assert.ok(r.missing.length === 0 && r.duplicates.length === 0 && r.firstDisorder === undefined, `${file}: ${describe(r)}`);
  }
  const followed = sidecar.diagnostics().filter((d) => d.msg === "following file").map((d) => d.file);
  assert.deepEqual([...new Set(followed)].sort(), [...expected.keys()].sort(), "no rotated generation or excluded file was followed as a new file");
});

test("a glob's files resume from their own checkpoints after a restart: each line once across both runs", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const logs = join(dir, "logs");
  const checkpoints = join(dir, "cp");
  mkdirSync(logs);
  const names = ["x.log", "y.log", "z.log"];
  for (const n of names) writeFileSync(join(logs, n), "");
  const args = ["--file", `${logs}/*.log`, "--format", "json", "--checkpoint-dir", checkpoints];
  const first = startSidecar(t, args);
  await until(() => first.diagnostics().filter((d) => d.msg === "following file").length >= 3, 10_000, "the first sidecar to follow the files");
  const per = 60_000;
  const writers = names.map((n) => startWriter(t, join(logs, n), { count: per, rate: 10_000, batch: 100 }));
  await sleep(1500);
  // A rotation of one file while the sidecar is down: its rest is read from the rotated name.
  assert.equal(await first.stop(), 0);
  renameSync(join(logs, "y.log"), join(logs, "y.log.1"));
  await sleep(1000);
  const second = startSidecar(t, args);
  for (const w of writers) assert.equal(await w.done, per);
  await until(() => records(second).length + records(first).length >= 3 * per, 30_000, () => `${3 * per} records (have ${records(first).length} + ${records(second).length}); stderr: ${second.stderr().slice(-2000)}`);
  assert.equal(await second.stop(), 0);
  const by = numbersByFile([...records(first), ...records(second)]);
  for (const n of names) {
    const r = checkSequence(by.get(join(logs, n)) ?? [], per);
    assert.ok(r.missing.length === 0 && r.duplicates.length === 0 && r.firstDisorder === undefined, `${n}: ${describe(r)}`);
  }
  assert.ok(count(records(second), join(logs, "y.log.1")) === 0, "the rotated generation is read under its base's name");
});

test("past --max-files the warning names the files not followed; one let go after it is deleted makes room", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  for (const n of ["a.log", "b.log", "c.log"]) writeFileSync(join(dir, n), `${n} 1\n`);
  const sidecar = startSidecar(t, ["--file", `${dir}/*.log`, "--max-files", "2", "--format", "json", "--metrics-port", "0"]);
  await until(() => records(sidecar).length >= 2, 10_000, "two files' first lines");
  // Two files at start-up (path order); the third is named at once, and the list again when it grows.
  const capWarnings = (): Record<string, unknown>[] => sidecar.diagnostics().filter((d) => d.msg?.toString().startsWith("more files match than --max-files"));
  await until(() => capWarnings().length >= 1, 10_000, () => `the cap's warning; stderr: ${sidecar.stderr()}`);
  assert.equal(capWarnings()[0]!.notFollowed, join(dir, "c.log"));
  assert.equal(capWarnings()[0]!.maxFiles, 2);
  appendFileSync(join(dir, "c.log"), "c.log 2\n");
  writeFileSync(join(dir, "d.log"), "d.log 1\n");
  await until(() => capWarnings().length >= 2, 10_000, () => `the cap's second warning; stderr: ${sidecar.stderr()}`);
  assert.equal(capWarnings()[1]!.notFollowed, `${join(dir, "c.log")}, ${join(dir, "d.log")}`);
  // Scraped while a.log is followed: its series exist from then on.
  await until(() => sidecar.metricsPort() !== undefined, 5000, "the metrics port");
  assert.ok((await scrapeLabelled(sidecar.metricsPort()!, "tailcar_sidecar_read_bytes_total", { file: join(dir, "a.log") }))! > 0);
  rmSync(join(dir, "a.log"));
  // Let go after 10 s without new bytes (RETIRE_QUIET_MS); then c.log takes its place, from its start.
  await until(() => records(sidecar).some((r) => r.file === join(dir, "c.log")), 25_000, () => `c.log followed once a.log is let go; stderr: ${sidecar.stderr()}`);
  await until(() => count(records(sidecar), join(dir, "c.log")) >= 2, 5000, "c.log read from its start");
  assert.ok(sidecar.diagnostics().some((d) => d.msg === "file no longer matched: let go" && d.file === join(dir, "a.log")));
  assert.equal(count(records(sidecar), join(dir, "d.log")), 0, "still one file over the cap");
  // The file let go has no metric series any more; the one that took its place has.
  const port = sidecar.metricsPort()!;
  assert.equal(await scrapeLabelled(port, "tailcar_sidecar_read_bytes_total", { file: join(dir, "a.log") }), undefined);
  assert.equal(await scrapeLabelled(port, "tailcar_sidecar_lag_bytes", { file: join(dir, "a.log") }), undefined);
  assert.ok((await scrapeLabelled(port, "tailcar_sidecar_read_bytes_total", { file: join(dir, "c.log") }))! > 0);
  assert.equal(await sidecar.stop(), 0);
});

test("pickup: a new file in a watched directory is read within 1 s; a glob whose directory is made later is found by the poll within --glob-interval", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "app"));
  const sidecar = startSidecar(t, ["--file", `${dir}/app/*.log`, "--file", `${dir}/later/*.log`, "--format", "json", "--glob-interval", "300ms"]);
  await sleep(500); // started, and the first listing done
  let at = Date.now();
  writeFileSync(join(dir, "app", "new.log"), "first\n");
  await until(() => records(sidecar).some((r) => r.log === "first"), 5000, () => `the new file's line; stderr: ${sidecar.stderr()}`);
  const watched = Date.now() - at;
  // Measured unloaded: about 20 ms (--coalesce 15 ms and one listing); the bound leaves room for a loaded machine.
  assert.ok(watched < 1000, `a new file in a watched directory took ${watched} ms`);
  at = Date.now();
  // No watch can stand on a directory that is not there: the poll finds it.
  mkdirSync(join(dir, "later"));
  writeFileSync(join(dir, "later", "x.log"), "second\n");
  await until(() => records(sidecar).some((r) => r.log === "second"), 5000, () => `the later directory's line; stderr: ${sidecar.stderr()}`);
  const later = Date.now() - at;
  assert.ok(later < 300 + 1000, `a file in a directory made later took ${later} ms (--glob-interval 300ms)`);
  assert.equal(await sidecar.stop(), 0);
});

test("raw output of a glob: nothing added by default; --prefix-file-name starts each line with its file's path", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, "a.log"), "one\ntwo\n");
  writeFileSync(join(dir, "b.log"), "three\n");
  const plain = startSidecar(t, ["--file", `${dir}/*.log`]);
  const prefixed = startSidecar(t, ["--file", `${dir}/*.log`, "--prefix-file-name"]);
  await until(() => plain.stdout().toString().split("\n").length > 3 && prefixed.stdout().toString().split("\n").length > 3, 10_000, "both sidecars' lines");
  assert.deepEqual(plain.stdout().toString().split("\n").filter(Boolean).sort(), ["one", "three", "two"]);
  assert.deepEqual(prefixed.stdout().toString().split("\n").filter(Boolean).sort(), [`${join(dir, "a.log")}: one`, `${join(dir, "a.log")}: two`, `${join(dir, "b.log")}: three`]);
});

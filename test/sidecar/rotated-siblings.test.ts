// The one scan of a followed path's directory (sidecar/rotated-siblings.ts) and the three choices
// made from it: skipped generations, the copytruncate copy, the checkpointed file under a new name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { copyCandidates } from "../../sidecar/copytruncate-copy.ts";
import { withCheckpointedInode } from "../../sidecar/resume.ts";
import { isOtherName, isRotatedName, pickSkipped, scanSiblings, type Sibling, type SkippedBounds } from "../../sidecar/rotated-siblings.ts";
import type { Checkpoint } from "../../sidecar/checkpoint.ts";
import { tempDir } from "./harness.ts";

function sibling(name: string, ino: bigint, birthtimeNs: bigint, size = 100n, dev = 1n): Sibling {
  return { name, path: `/logs/${name}`, st: { dev, ino, birthtimeNs, size } };
}

test("rotated names: the path's name with a suffix, not compressed, not the path itself", () => {
  const rows: [string, boolean][] = [
    ["app.log.1", true],
    ["app.log-20240101", true],
    ["app.log.1.gz", false],
    ["app.log.2.zst", false],
    ["app.log", false],
    ["other.log", false],
    ["app.lo", false],
  ];
  for (const [name, rotated] of rows) assert.equal(isRotatedName("app.log", name), rotated, name);
  assert.equal(isOtherName("app.log", "archive.txt"), true);
  assert.equal(isOtherName("app.log", "app.log"), false);
});

test("the scan lists the regular files the names filter lets through, with their stats", async (t) => {
  const dir = tempDir(t);
  const path = join(dir, "app.log");
  writeFileSync(path, "now\n");
  writeFileSync(`${path}.1`, "one\n");
  writeFileSync(`${path}.2.gz`, "zipped");
  writeFileSync(join(dir, "other.log"), "x\n");
  mkdirSync(`${path}.d`);
  execFileSync("mkfifo", [`${path}.fifo`]);
  symlinkSync(`${path}.1`, `${path}.link`);
  const rotated = (await scanSiblings(path)).map((s) => s.name).sort();
  assert.deepEqual(rotated, ["app.log.1", "app.log.link"]); // a symlink to a regular file is stat'ed through
  const others = (await scanSiblings(path, isOtherName)).map((s) => s.name).sort();
  assert.deepEqual(others, ["app.log.1", "app.log.2.gz", "app.log.link", "other.log"]);
  const one = (await scanSiblings(path)).find((s) => s.name === "app.log.1")!;
  assert.equal(one.st.size, 4n);
  assert.deepEqual(await scanSiblings(join(dir, "missing-dir", "app.log")), [], "an unreadable directory lists nothing");
});

test("skipped generations: the oldest born within the bounds, not read yet, not the file at the path; the lower inode within one tick", () => {
  const bounds: SkippedBounds = { done: new Set(["1:20:1000"]), afterBirthNs: 1000n, inclusive: true, beforeBirthNs: 5000n, currentIno: 50n };
  const rows: [string, Sibling[], Partial<SkippedBounds>, string | undefined][] = [
    ["none", [], {}, undefined],
    ["born before the finished file", [sibling("app.log.3", 30n, 999n)], {}, undefined],
    ["born in the finished file's tick (inclusive)", [sibling("app.log.3", 30n, 1000n)], {}, "app.log.3"],
    ["born in the finished file's tick (exclusive)", [sibling("app.log.3", 30n, 1000n)], { inclusive: false }, undefined],
    ["born after the file at the path", [sibling("app.log.3", 30n, 5001n)], {}, undefined],
    ["born in the tick of the file at the path", [sibling("app.log.3", 30n, 5000n)], {}, "app.log.3"],
    ["read already (dev:ino:birth)", [sibling("app.log.2", 20n, 1000n)], {}, undefined],
    ["same inode, another birth: a new file", [sibling("app.log.2", 20n, 2000n)], {}, "app.log.2"],
    ["the file at the path under a second name", [sibling("app.log.9", 50n, 2000n)], {}, undefined],
    ["the oldest of two", [sibling("app.log.1", 40n, 3000n), sibling("app.log.2", 41n, 2000n)], {}, "app.log.2"],
    ["one tick: the lower inode", [sibling("app.log.1", 41n, 2000n), sibling("app.log.2", 40n, 2000n)], {}, "app.log.2"],
  ];
  for (const [what, siblings, over, expected] of rows) assert.equal(pickSkipped(siblings, { ...bounds, ...over })?.name, expected, what);
});

test("copytruncate copies: only files longer than what was read, newest first", () => {
  const siblings = [sibling("app.log.2", 2n, 100n, 900n), sibling("app.log.1", 1n, 300n, 500n), sibling("app.log.3", 3n, 200n, 900n), sibling("app.log.4", 4n, 400n, 50n)];
  assert.deepEqual(copyCandidates(siblings, 100).map((s) => s.name), ["app.log.1", "app.log.3", "app.log.2"]);
  assert.deepEqual(copyCandidates(siblings, 500).map((s) => s.name), ["app.log.3", "app.log.2"]);
  assert.deepEqual(copyCandidates(siblings, 900), []);
});

test("the checkpointed file under another name: same device and inode", () => {
  const cp = { identity: { dev: "1", ino: "7", fingerprint: "", fingerprintLength: 0 } } as Pick<Checkpoint, "identity"> as Checkpoint;
  const siblings = [sibling("app.log.1", 7n, 1n), sibling("app.log.2", 8n, 1n), sibling("elsewhere", 7n, 1n, 1n, 2n), sibling("archive", 7n, 5n)];
  assert.deepEqual(withCheckpointedInode(siblings, cp).map((s) => s.name), ["app.log.1", "archive"]);
});

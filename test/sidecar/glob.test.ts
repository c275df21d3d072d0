// Which of the files a glob matches are followed (sidecar/glob.ts), and the listing that finds them
// (sidecar/glob-scan.ts), as tables; the pattern's syntax is tested in test/settings/file-glob.test.ts.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { matches, parseGlob } from "../../settings/file-glob.ts";
import { planRetire, planScan } from "../../sidecar/glob.ts";
import { listGlob } from "../../sidecar/glob-scan.ts";
import { isRotatedName, rotatedBases } from "../../sidecar/rotated-siblings.ts";
import { tempDir } from "./harness.ts";

test("rotated names give back their base: numbered, compressed, dated, and with logrotate's extension kept", () => {
  const rows: [string, string[]][] = [
    ["app.log.1", ["app.log"]],
    ["app.log.2.gz", ["app.log"]],
    ["app.log-20240101", ["app.log"]],
    ["app.log-2024-01-01T10:00:00", ["app.log"]],
    ["app.log.gz", ["app.log"]],
    ["app-20240101.log", ["app.log"]],
    ["app.1.log", ["app.log"]],
    ["app.log", []],
    ["server-v2.log", []],
    ["my.2nd.app.log", []],
  ];
  for (const [name, bases] of rows) assert.deepEqual(rotatedBases(name), bases, name);
  // The suffix shapes agree with the follower's own idea of a rotated name.
  for (const name of ["app.log.1", "app.log-20240101", "app.log-2024-01-01T10:00:00"]) assert.equal(isRotatedName(rotatedBases(name)[0]!, name), true, name);
});

test("a listing's plan: new matches followed in path order up to the room left; excluded, rotated and compressed files never", () => {
  const g = parseGlob("/l/*!skip.log");
  const found = ["/l/b.log", "/l/a.log", "/l/a.log.1", "/l/a.log.2.gz", "/l/skip.log", "/l/c-20240101.log", "/l/c.log", "/l/solo.1", "/l/gone.log.1", "/l/d.log"];
  const plan = planScan(g, { found, followed: new Set(["/l/d.log"]), followedBefore: new Set(["/l/gone.log"]), room: 3 });
  assert.deepEqual(plan.follow, ["/l/a.log", "/l/b.log", "/l/c.log"]);
  assert.deepEqual(plan.overCap, ["/l/solo.1"], "a rotated shape whose base is neither there nor followed is a file of its own");
  assert.deepEqual(plan.rotated, ["/l/a.log.1", "/l/a.log.2.gz", "/l/c-20240101.log", "/l/gone.log.1"]);
  assert.deepEqual(plan.excluded, ["/l/skip.log"]);
});

test("a rotated shape counts as a rotation only when its base is one the pattern matches", () => {
  const g = parseGlob("/l/*.txt");
  // app.log.txt is not "app.log" rotated: its base would be app.log... which *.txt does not match.
  const plan = planScan(g, { found: ["/l/app.1.txt", "/l/app.txt", "/l/x.1.txt"], followed: new Set(), followedBefore: new Set(), room: 10 });
  assert.deepEqual(plan.follow, ["/l/app.txt", "/l/x.1.txt"]);
  assert.deepEqual(plan.rotated, ["/l/app.1.txt"]);
});

test("files let go: gone from the listing, excluded, or now a rotated generation of a file that came back", () => {
  const g = parseGlob("/l/*!x.log");
  const ours = ["/l/a.log", "/l/gone.log", "/l/b.log.1", "/l/x.log"];
  assert.deepEqual(planRetire(g, { found: ["/l/a.log", "/l/b.log", "/l/b.log.1", "/l/x.log"], ours, followedBefore: new Set() }), ["/l/gone.log", "/l/b.log.1", "/l/x.log"]);
});

test("the listing walks only directories that may hold matches, follows symlinks to files, and names the directories it listed", (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "a", "deep"), { recursive: true });
  mkdirSync(join(dir, "b"));
  mkdirSync(join(dir, ".hidden"));
  writeFileSync(join(dir, "top.log"), "");
  writeFileSync(join(dir, "a", "x.log"), "");
  writeFileSync(join(dir, "a", "deep", "y.log"), "");
  writeFileSync(join(dir, "b", "z.txt"), "");
  writeFileSync(join(dir, ".hidden", "h.log"), "");
  symlinkSync(join(dir, "a", "x.log"), join(dir, "link.log"));
  mkdirSync(join(dir, "a", "dir.log"));
  const g = parseGlob(`${dir}/**/*.log`);
  const l = listGlob(g, (p) => matches(g, p));
  assert.deepEqual([...l.files].sort(), [join(dir, "a", "deep", "y.log"), join(dir, "a", "x.log"), join(dir, "link.log"), join(dir, "top.log")]);
  assert.equal(l.complete, true);
  assert.ok(!l.dirs.includes(join(dir, ".hidden")));
  const one = parseGlob(`${dir}/a/*.log`);
  assert.deepEqual(listGlob(one, (p) => matches(one, p)).dirs, [join(dir, "a")]);
  const missing = parseGlob(`${dir}/nope/*.log`);
  assert.deepEqual(listGlob(missing, (p) => matches(missing, p)), { files: [], dirs: [], complete: true });
});

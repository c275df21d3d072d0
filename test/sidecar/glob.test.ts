// Wildcard --file entries (sidecar/glob.ts): the pattern's syntax, which paths it matches, its
// excludes, which directories are worth listing, and which found files are followed, as tables.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { globProblem, isGlob, matches, mayHoldMatches, parseGlob } from "../../settings/file-glob.ts";
import { planRetire, planScan } from "../../sidecar/glob.ts";
import { listGlob } from "../../sidecar/glob-scan.ts";
import { isRotatedName, rotatedBases } from "../../sidecar/rotated-siblings.ts";
import { tempDir } from "./harness.ts";

test("an entry is a glob when its pattern (before any !) has *, ? or [; an exact path may hold a !", () => {
  const rows: [string, boolean][] = [
    ["/var/log/app/*.log", true],
    ["/var/log/app/app.?.log", true],
    ["/var/log/[ab].log", true],
    ["/var/log/**/x.log", true],
    ["/var/log/app.log", false],
    ["/var/log/wow!.log", false],
    ["/var/log/a.log!*.log", false],
  ];
  for (const [entry, glob] of rows) assert.equal(isGlob(entry), glob, entry);
});

test("the root is the directory before the first wildcard's segment", () => {
  const rows: [string, string][] = [
    ["/var/log/app/*.log", "/var/log/app"],
    ["/var/log/*/app.log", "/var/log"],
    ["/var/log/**/*.log", "/var/log"],
    ["/*.log", "/"],
    ["/var/log/app/*.log!debug.log", "/var/log/app"],
  ];
  for (const [entry, root] of rows) assert.equal(parseGlob(entry).root, root, entry);
});

test("bad globs are refused with what is wrong", () => {
  const rows: [string, RegExp][] = [
    ["var/log/*.log", /not an absolute path/],
    ["/var/log/*/", /names a directory/],
    ["/var/log/**", /ends with "\*\*"/],
    ["/var/log/../*.log", /"\.\."/],
    ["/var//*.log", /empty/],
    ["/var/log/[ab.log", /without its "]"/],
    ["/var/log/*.log!", /empty exclude/],
    ["/var/log/*.log!tmp/*.log", /not an absolute path/],
  ];
  for (const [entry, problem] of rows) assert.match(globProblem(entry) ?? "(none)", problem, entry);
  assert.equal(globProblem("/var/log/**/*.log!debug.log!/var/log/tmp/**/*"), undefined);
});

test("matching: * and ? within a segment, sets, ** across directories, hidden names only when named", () => {
  const rows: [string, string, boolean][] = [
    ["/var/log/app/*.log", "/var/log/app/a.log", true],
    ["/var/log/app/*.log", "/var/log/app/sub/a.log", false],
    ["/var/log/app/*.log", "/var/log/app/a.log.1", false],
    ["/var/log/app/*.log", "/var/log/app/.hidden.log", false],
    ["/var/log/app/.*.log", "/var/log/app/.hidden.log", true],
    ["/var/log/app/*.log", "/var/log/other/a.log", false],
    ["/var/log/app/?.log", "/var/log/app/a.log", true],
    ["/var/log/app/?.log", "/var/log/app/ab.log", false],
    ["/var/log/app/[ab].log", "/var/log/app/b.log", true],
    ["/var/log/app/[!ab].log", "/var/log/app/b.log", false],
    ["/var/log/app/[!ab].log", "/var/log/app/c.log", true],
    ["/var/log/app/[a-c]x.log", "/var/log/app/cx.log", true],
    ["/var/log/app/a+b(1).log*", "/var/log/app/a+b(1).log", true],
    ["/var/log/**/*.log", "/var/log/a.log", true],
    ["/var/log/**/*.log", "/var/log/x/y/z/a.log", true],
    ["/var/log/**/*.log", "/var/log/.cache/a.log", false],
    ["/var/log/**/app/*.log", "/var/log/app/a.log", true],
    ["/var/log/**/app/*.log", "/var/log/p/q/app/a.log", true],
    ["/var/log/**/app/*.log", "/var/log/p/q/app/r/a.log", false],
    ["/var/log/*/app.log", "/var/log/nginx/app.log", true],
    ["/var/log/*/app.log", "/var/log/app.log", false],
    ["/*.log", "/a.log", true],
  ];
  for (const [pattern, path, want] of rows) assert.equal(matches(parseGlob(pattern), path), want, `${pattern} ~ ${path}`);
});

test("excludes: a name alone is matched against the file's name, an absolute one against its whole path", () => {
  const g = parseGlob("/var/log/**/*.log!debug-*.log!/var/log/tmp/**/*.log");
  const rows: [string, boolean][] = [
    ["/var/log/app.log", true],
    ["/var/log/debug-1.log", false],
    ["/var/log/x/debug-2.log", false],
    ["/var/log/tmp/a.log", false],
    ["/var/log/tmp/deep/a.log", false],
    ["/var/log/tmpx/a.log", true],
  ];
  for (const [path, want] of rows) assert.equal(matches(g, path), want, path);
});

test("directories worth listing: those a match can lie below", () => {
  const rows: [string, string, boolean][] = [
    ["/var/log/app/*.log", "/var/log/app", true],
    ["/var/log/app/*.log", "/var/log/app/sub", false],
    ["/var/log/*/app.log", "/var/log/nginx", true],
    ["/var/log/*/app.log", "/var/log/nginx/deeper", false],
    ["/var/log/**/*.log", "/var/log/a/b/c", true],
    ["/var/log/**/*.log", "/var/log/.git", false],
    ["/var/log/a*/**/x.log", "/var/log/b", false],
    ["/var/log/a*/**/x.log", "/var/log/a1/b/c", true],
    ["/var/log/app/*.log", "/var/logs", false],
  ];
  for (const [pattern, dir, want] of rows) assert.equal(mayHoldMatches(parseGlob(pattern), dir), want, `${pattern} lists ${dir}`);
});

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

// Wildcard entries of --file and tailcar.io/files (settings/file-glob.ts): what is a glob, its root,
// what is refused, which paths it matches, its excludes, which directories are worth listing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { globProblem, isGlob, matches, mayHoldMatches, parseGlob } from "../../settings/file-glob.ts";

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

test("a pattern of many stars against a long name that almost matches answers at once (no backtracking blow-up)", { timeout: 10_000 }, () => {
  // As a regular expression this took more than a minute; the webhook matches globs against mount paths.
  const g = parseGlob(`/var/log/${"*a".repeat(12)}*b/x.log`);
  const started = performance.now();
  assert.equal(mayHoldMatches(g, `/var/log/${"a".repeat(40)}`), false);
  assert.equal(matches(g, `/var/log/${"a".repeat(40)}/x.log`), false);
  assert.equal(matches(g, `/var/log/${"a".repeat(40)}b/x.log`), true);
  assert.ok(performance.now() - started < 100, `took ${(performance.now() - started).toFixed(0)} ms`);
});

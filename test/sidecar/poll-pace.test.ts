// The follower's poll pace: --poll-interval while the file is written or unwatched, the slower
// --quiet-poll-interval once a watched file has been quiet for QUIET_AFTER_MS, and never past a
// flush the follower owes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SettingsError, parseSidecarConfig } from "../../sidecar/config.ts";
import { toEnv } from "../../settings/sidecar-rows.ts";
import { pollWait, QUIET_AFTER_MS, type PaceInput } from "../../sidecar/poll-pace.ts";
import { Waker } from "../../sidecar/wakeup.ts";
import { tempDir } from "./harness.ts";

const base: PaceInput = { now: 100_000, lastDataAt: 100_000, watching: () => true, deadline: undefined, pollIntervalMs: 250, quietPollIntervalMs: 1000 };

const cases: { name: string; over: Partial<PaceInput>; wait: number }[] = [
  { name: "a file just written polls at --poll-interval", over: {}, wait: 250 },
  { name: "quiet for less than QUIET_AFTER_MS: still --poll-interval", over: { lastDataAt: base.now - QUIET_AFTER_MS + 1 }, wait: 250 },
  { name: "quiet for QUIET_AFTER_MS under a watch: --quiet-poll-interval", over: { lastDataAt: base.now - QUIET_AFTER_MS }, wait: 1000 },
  { name: "quiet for an hour under a watch: --quiet-poll-interval", over: { lastDataAt: base.now - 3_600_000 }, wait: 1000 },
  { name: "quiet but no watch stands (no directory yet, a watch error): --poll-interval", over: { lastDataAt: 0, watching: () => false }, wait: 250 },
  { name: "a quiet pace below --poll-interval never speeds the poll up", over: { lastDataAt: 0, quietPollIntervalMs: 100 }, wait: 250 },
  { name: "a quiet pace equal to --poll-interval turns the slowdown off", over: { lastDataAt: 0, quietPollIntervalMs: 250 }, wait: 250 },
  { name: "a flush due sooner than the poll cuts the wait short", over: { deadline: base.now + 40 }, wait: 40 },
  { name: "a flush due sooner than the quiet poll cuts it short too", over: { lastDataAt: 0, deadline: base.now + 600 }, wait: 600 },
  { name: "a flush already overdue: no wait", over: { deadline: base.now - 5 }, wait: 0 },
  { name: "a flush due after the poll: the poll comes first", over: { deadline: base.now + 5000 }, wait: 250 },
];

for (const c of cases) {
  test(`poll pace: ${c.name}`, () => {
    assert.equal(pollWait({ ...base, ...c.over }), c.wait);
  });
}

test("poll pace: a file that is not quiet does not ask whether it is watched (an lstat a busy file need not pay)", () => {
  assert.equal(pollWait({ ...base, watching: () => assert.fail("asked") }), 250);
});

test("--quiet-poll-interval: 1m by default, from the flag or TAILCAR_QUIET_POLL_INTERVAL, the flag winning; a bad value names the flag", () => {
  assert.equal(parseSidecarConfig(["--file", "/a.log"], {}).quietPollIntervalMs, 60_000);
  assert.equal(parseSidecarConfig(["--file", "/a.log", "--quiet-poll-interval", "3s"], {}).quietPollIntervalMs, 3000);
  assert.equal(parseSidecarConfig(["--file", "/a.log"], { TAILCAR_QUIET_POLL_INTERVAL: "500ms" }).quietPollIntervalMs, 500);
  assert.equal(parseSidecarConfig(["--file", "/a.log", "--quiet-poll-interval=2s"], { TAILCAR_QUIET_POLL_INTERVAL: "500ms" }).quietPollIntervalMs, 2000);
  assert.throws(() => parseSidecarConfig(["--file", "/a.log", "--quiet-poll-interval", "soon"], {}), (e: unknown) => e instanceof SettingsError && /--quiet-poll-interval: "soon" is not a duration/.test(e.message));
  // The injector's direction of the contract: the variable it would write reads back the same.
  assert.equal(parseSidecarConfig([], Object.fromEntries(toEnv({ files: ["/a.log"], quietPollIntervalMs: 2500 }).map((e) => [e.name, e.value]))).quietPollIntervalMs, 2500);
});

test("the waker counts as watching for a plain file under a standing watch, not for a symlink or before its first wait", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, "a\n");
  mkdirSync(join(dir, "elsewhere"));
  writeFileSync(join(dir, "elsewhere", "target.log"), "b\n");
  symlinkSync(join(dir, "elsewhere", "target.log"), join(dir, "link.log"));
  const plain = new Waker(file);
  const link = new Waker(join(dir, "link.log"));
  const missingDir = new Waker(join(dir, "not-yet", "app.log"));
  t.after(() => [plain, link, missingDir].forEach((w) => w.close()));
  assert.equal(plain.watching, false, "no watch before the first wait");
  await Promise.all([plain.wait(0), link.wait(0), missingDir.wait(0)]);
  assert.equal(plain.watching, true);
  assert.equal(link.watching, false, "a symlink's target may be written in another directory");
  assert.equal(missingDir.watching, false, "no directory, no watch");
});

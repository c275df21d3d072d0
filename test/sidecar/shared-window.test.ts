// One coalescing window for a sidecar's followers (shared-window.ts): a follower whose file is
// written while another's window is open ends its wait with that window, so one timer serves both;
// nobody waits longer than the window, and no timer stands once nobody waits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SharedWindow } from "../../sidecar/shared-window.ts";
import { Waker } from "../../sidecar/wakeup.ts";
import { tempDir } from "./harness.ts";

test("a follower joining an open window ends with it: both waits end together, the later one sooner than a window of its own", async (t) => {
  const dir = tempDir(t);
  const shared = new SharedWindow(300);
  const [a, b] = ["a.log", "b.log"].map((name) => {
    const file = join(dir, name);
    writeFileSync(file, "");
    const waker = new Waker(file, 300, shared);
    t.after(() => waker.close());
    return { file, waker };
  });
  await Promise.all([a!.waker.wait(0), b!.waker.wait(0)]);
  await sleep(50); // the watches settle: no event from the files' creation is pending
  const ended: Record<string, number> = {};
  const t0 = performance.now();
  const waits = [a!, b!].map(({ waker }, i) => waker.wait(60_000).then(() => (ended[i ? "b" : "a"] = performance.now() - t0)));
  appendFileSync(a!.file, "a\n");
  await sleep(150);
  const bWrittenAt = performance.now() - t0;
  appendFileSync(b!.file, "b\n");
  await Promise.all(waits);
  assert.ok(ended.a! >= 280, `a's wait ended after ${ended.a!.toFixed(0)} ms, before its window closed`);
  assert.ok(Math.abs(ended.b! - ended.a!) < 40, `a ended at ${ended.a!.toFixed(0)} ms, b at ${ended.b!.toFixed(0)} ms: not one window`);
  assert.ok(ended.b! - bWrittenAt < 280, `b waited ${(ended.b! - bWrittenAt).toFixed(0)} ms after its write: a window of its own, not the open one`);
});

test("a window everybody left holds no timer: the process can exit", async () => {
  const shared = new SharedWindow(60_000);
  let ended = false;
  const leave = shared.join(() => (ended = true));
  leave();
  leave(); // twice is harmless
  // With the timer cleared nothing keeps the loop busy; a standing one would end the join a minute on.
  await sleep(20);
  assert.equal(ended, false);
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === "Timeout").length, 0);
});

test("the window closes once for all who joined it, and the next join opens a new one", async () => {
  const shared = new SharedWindow(30);
  const ends: number[] = [];
  const t0 = performance.now();
  await Promise.all([0, 1, 2].map((i) => new Promise<void>((r) => shared.join(() => (ends[i] = performance.now() - t0, r())))));
  assert.ok(Math.max(...ends) - Math.min(...ends) < 5, `ends ${ends.map((e) => e.toFixed(1)).join(", ")} ms`);
  const t1 = performance.now();
  await new Promise<void>((r) => shared.join(r));
  assert.ok(performance.now() - t1 >= 25, "the second join found the first window still open");
});

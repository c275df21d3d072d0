// The coalescing window (--coalesce): a watch event ends the follower's wait only once the window
// has closed, so writes landing meanwhile are read together; a stop never waits for it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseSidecarConfig } from "../../sidecar/config.ts";
import { Waker } from "../../sidecar/wakeup.ts";
import { tempDir } from "./harness.ts";

/** A waker on a fresh file, its watch standing (armed by a first wait). */
async function armed(t: { after: (fn: () => void) => void }, dir: string, coalesceMs: number): Promise<{ file: string; waker: Waker }> {
  const file = join(dir, "app.log");
  writeFileSync(file, "");
  const waker = new Waker(file, coalesceMs);
  t.after(() => waker.close());
  await waker.wait(0);
  await sleep(50); // let the watch settle: no event from the file's creation is pending
  return { file, waker };
}

async function timed(p: Promise<void>): Promise<number> {
  const t0 = performance.now();
  await p;
  return performance.now() - t0;
}

test("a write ends the wait after the coalescing window, not at once", async (t) => {
  const { file, waker } = await armed(t, tempDir(t), 150);
  const waited = waker.wait(60_000);
  appendFileSync(file, "a\n");
  const ms = await timed(waited);
  assert.ok(ms >= 140, `resolved after ${ms.toFixed(0)} ms, before the 150 ms window closed`);
  assert.ok(ms < 5000, `resolved after ${ms.toFixed(0)} ms`);
});

test("writes during the window end one wait: the next wait is not cut short by them", async (t) => {
  const { file, waker } = await armed(t, tempDir(t), 200);
  const waited = waker.wait(60_000);
  for (let i = 0; i < 5; i++) {
    appendFileSync(file, `line ${i}\n`);
    await sleep(10);
  }
  await waited;
  // Nothing written since the window closed: this wait runs to its timeout.
  const ms = await timed(waker.wait(300));
  assert.ok(ms >= 280, `the next wait ended after ${ms.toFixed(0)} ms: a write of the last window woke it again`);
});

test("a stop (wake) ends a wait at once, even inside a window", async (t) => {
  const { file, waker } = await armed(t, tempDir(t), 10_000);
  const waited = waker.wait(60_000);
  appendFileSync(file, "a\n");
  await sleep(50);
  const ms = await timed((waker.wake(), waited));
  assert.ok(ms < 1000, `the stop waited ${ms.toFixed(0)} ms for the window`);
});

test("--coalesce 0: a write ends the wait at once", async (t) => {
  const { file, waker } = await armed(t, tempDir(t), 0);
  const waited = waker.wait(60_000);
  appendFileSync(file, "a\n");
  const ms = await timed(waited);
  assert.ok(ms < 1000, `resolved after ${ms.toFixed(0)} ms`);
});

test("--coalesce: 15ms by default, from the flag or TAILCAR_COALESCE, 0 allowed", () => {
  assert.equal(parseSidecarConfig(["--file", "/a.log"], {}).coalesceMs, 15);
  assert.equal(parseSidecarConfig(["--file", "/a.log", "--coalesce", "0"], {}).coalesceMs, 0);
  assert.equal(parseSidecarConfig(["--file", "/a.log"], { TAILCAR_COALESCE: "25ms" }).coalesceMs, 25);
});

test("a lone write a window keeps the watch: the next wait, after bytes were found, still waits for an event", async (t) => {
  const { file, waker } = await armed(t, tempDir(t), 50);
  const waited = waker.wait(60_000);
  appendFileSync(file, "a\n");
  await waited;
  const ms = await timed(waker.wait(300, true));
  assert.ok(ms >= 280, `the wait after one write polled (${ms.toFixed(0)} ms) instead of waiting for the watch`);
  assert.equal(waker.watching, true);
});

test("while bytes flow (several writes a window) a wait is one window long and no watch stands; after a read that found nothing the watch is set up again, and one more read follows", async (t) => {
  const { file, waker } = await armed(t, tempDir(t), 80);
  const first = waker.wait(60_000);
  appendFileSync(file, "a\n");
  await sleep(10);
  appendFileSync(file, "b\n");
  await first;
  const flowing = await timed(waker.wait(60_000, true));
  assert.ok(flowing >= 70 && flowing < 5000, `a flowing wait lasted ${flowing.toFixed(0)} ms, not one 80 ms window`);
  assert.equal(waker.watching, false, "no watch while bytes flow: each write would wake the sidecar");
  // Nothing found: the watch stands again, and a window later comes one read for what was written before it did.
  const rearmed = await timed(waker.wait(60_000, false));
  assert.ok(rearmed < 5000, `the read after re-arming came after ${rearmed.toFixed(0)} ms`);
  assert.equal(waker.watching, true);
  const waited = waker.wait(60_000);
  appendFileSync(file, "a\n");
  const ms = await timed(waited);
  assert.ok(ms < 5000, `the watch set up again did not report a write (${ms.toFixed(0)} ms)`);
});

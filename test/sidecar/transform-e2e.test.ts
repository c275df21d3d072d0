// The JSON and multiline transforms inside the real sidecar process: records on stdout, the
// multiline timeout, pod metadata from the environment, and a restart while a record is held.
// Needs dist/ (npm test builds first).
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { startSidecar, tempDir, until } from "./harness.ts";

interface Rec {
  time: string;
  file: string;
  log: string;
  pod?: string;
  namespace?: string;
  node?: string;
  container?: string;
}

function records(out: Buffer): Rec[] {
  const text = out.toString("utf8");
  const whole = text.slice(0, text.lastIndexOf("\n") + 1);
  return whole.split("\n").slice(0, -1).map((l) => JSON.parse(l) as Rec);
}

const TRACE = ['Exception in thread "main" java.lang.IllegalStateException: boom', "\tat com.example.App.run(App.java:12)", "\t... 3 more"];

test("json + java: a trace written in two parts comes out as one record, after the multiline timeout", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, `first "line"\n${TRACE[0]}\n`);
  const env = { TAILCAR_POD_NAME: "web-1", TAILCAR_POD_NAMESPACE: "shop", TAILCAR_NODE_NAME: "n1", TAILCAR_CONTAINER_NAME: "app" };
  const s = startSidecar(t, ["--file", file, "--format", "json", "--multiline", "java", "--multiline-timeout", "1s"], env);
  await until(() => records(s.stdout()).length >= 1, 10_000, "the first record");
  await sleep(100);
  appendFileSync(file, `${TRACE[1]}\n${TRACE[2]}\n`);
  const wrote = Date.now();
  await until(() => records(s.stdout()).length >= 2, 10_000, () => `the trace record; stdout: ${s.stdout().toString()}`);
  const took = Date.now() - wrote;
  const recs = records(s.stdout());
  assert.deepEqual(recs.map((r) => r.log), ['first "line"', TRACE.join("\n")]);
  assert.ok(took >= 800, `the trace was held until the 1 s timeout (came after ${took} ms)`);
  for (const r of recs) {
    assert.equal(r.file, file);
    assert.deepEqual([r.pod, r.namespace, r.node, r.container], ["web-1", "shop", "n1", "app"]);
  }
});

test("json + java: SIGTERM writes the held record before exiting 0", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, `${TRACE.join("\n")}\n`);
  const s = startSidecar(t, ["--file", file, "--format", "json", "--multiline", "java", "--multiline-timeout", "60s"]);
  await until(() => s.diagnostics().some((d) => d.msg === "following file"), 10_000, "the sidecar to start");
  await sleep(300);
  assert.equal(records(s.stdout()).length, 0, "held while the timeout has not passed");
  assert.equal(await s.stop("SIGTERM"), 0);
  assert.deepEqual(records(s.stdout()).map((r) => r.log), [TRACE.join("\n")]);
});

test("json + java: a restart after SIGKILL while a trace is held writes the whole trace, head included", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const checkpoints = join(dir, "cp");
  writeFileSync(file, `before\n${TRACE[0]}\n${TRACE[1]}\n`);
  const args = ["--file", file, "--format", "json", "--multiline", "java", "--multiline-timeout", "60s", "--checkpoint-dir", checkpoints, "--checkpoint-interval", "100ms"];
  const first = startSidecar(t, args);
  await until(() => records(first.stdout()).length >= 1, 10_000, "the first record");
  await sleep(500); // several checkpoint intervals while the trace is held
  await first.stop("SIGKILL");
  assert.deepEqual(records(first.stdout()).map((r) => r.log), ["before"]);
  appendFileSync(file, `${TRACE[2]}\nafter\n`);
  const second = startSidecar(t, args);
  await until(() => records(second.stdout()).length >= 2, 10_000, () => `two records after the restart; stdout: ${second.stdout().toString()}`);
  assert.deepEqual(records(second.stdout()).map((r) => r.log), [TRACE.join("\n"), "after"], "the trace whole, \"before\" not repeated");
});

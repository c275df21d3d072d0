// `tailcar inject` streams: each document is written as soon as the input completes it, and memory
// follows the largest document, not the input (runs the built CLI: `npm run build` first).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { CHILD_USAGE_IMPORT, parseChildUsage } from "../../bench/child-usage.ts";
import { podStream } from "../../bench/pod-stream.ts";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

async function until(condition: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (condition()) return true;
  return condition();
}

test("tailcar inject writes a document as soon as the next one begins, while its stdin pipe is still open", async () => {
  const child = spawn(process.execPath, [CLI, "inject", "-f", "-"], { stdio: ["pipe", "pipe", "pipe"] });
  try {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => void (out += s));
    child.stderr.resume();
    child.stdin.write(podStream(0, 2)); // pod-0 whole, pod-1 begun
    assert.ok(await until(() => out.includes("name: pod-0"), 30_000), "no output while the input stays open");
    assert.equal(child.exitCode, null);
    assert.ok(out.includes("- name: app-log"), out);
    assert.ok(!out.includes("pod-1"), "pod-1 written before its end was read");
    child.stdin.end();
    const [code] = await once(child, "close");
    assert.equal(code, 0);
    assert.deepEqual(parseAllDocuments(out).map((d) => (d.toJS() as { metadata: { name: string } }).metadata.name), ["pod-0", "pod-1"]);
  } finally {
    child.kill();
  }
});

/** `count` pods of about 16 KiB each (a long env value), injected, as one stream. */
function* bigPods(count: number): Generator<string> {
  const value = "v".repeat(16 * 1024);
  for (let i = 0; i < count; i++) {
    yield `---
apiVersion: v1
kind: Pod
metadata: {name: pod-${i}, annotations: {tailcar.io/files: /var/log/app.log}}
spec: {containers: [{name: app, image: "busybox:1.36", env: [{name: PAYLOAD, value: ${value}}]}]}
`;
  }
}

/** Peak RSS (MiB) of `tailcar inject -f -` on `count` big pods through a pipe, and the pods written. */
async function peakRss(count: number): Promise<{ mib: number; written: number }> {
  const child = spawn(process.execPath, ["--import", CHILD_USAGE_IMPORT, CLI, "inject", "-f", "-"], { stdio: ["pipe", "pipe", "ignore", "pipe"] });
  let written = 0;
  child.stdout!.setEncoding("utf8").on("data", (s: string) => void (written += s.split("\nkind: Pod\n").length - 1));
  let usage = "";
  child.stdio[3]!.on("data", (b: Buffer) => void (usage += b.toString()));
  const closed = once(child, "close");
  await pipeline(Readable.from(bigPods(count)), child.stdin!);
  const [code] = await closed;
  assert.equal(code, 0);
  return { mib: parseChildUsage(usage).maxRSS / 1024, written };
}

test("tailcar inject's memory does not grow with the number of documents (250 vs 1,000 pods of 16 KiB)", async () => {
  const small = await peakRss(250);
  const large = await peakRss(1000);
  assert.equal(small.written, 250);
  assert.equal(large.written, 1000);
  // 12 MiB more input: read whole (before streaming) it took 177 MiB more, streamed 22 MiB.
  assert.ok(large.mib - small.mib < 60, `peak RSS ${small.mib.toFixed(0)} MiB for 250 pods, ${large.mib.toFixed(0)} MiB for 1,000`);
});

// Paths that cannot be followed (a FIFO, a socket, a directory, a procfs or sysfs pseudo-file, a
// symlink to one of them, a file the sidecar may not read) are refused for that path alone: one
// clear message, a metric naming the path, the path checked again at the normal pace, and the
// other files streamed all along; SIGTERM still stops the sidecar at once with exit 0.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, rmSync, rmdirSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { assertExactlyOnce, numberedLines, scrapeLabelled, startSidecar, tempDir, until, waitForLines, type Sidecar } from "./harness.ts";

const FAST = ["--poll-interval", "100ms", "--metrics-port", "0"];

/** The not-followed gauge of `file` for `reason`, once the metrics port is known. */
async function notFollowed(sidecar: Sidecar, file: string, reason: string): Promise<number | undefined> {
  await until(() => sidecar.metricsPort() !== undefined, 10_000, "the metrics port");
  return scrapeLabelled(sidecar.metricsPort()!, "tailcar_sidecar_file_not_followed", { file, reason });
}

function messagesFor(sidecar: Sidecar, file: string): Record<string, unknown>[] {
  return sidecar.diagnostics().filter((d) => d.file === file && d.msg !== "following file");
}

/** SIGTERM: exit 0, and soon (the drain has nothing to wait for). */
async function assertStopsPromptly(sidecar: Sidecar): Promise<void> {
  const started = Date.now();
  const code = await sidecar.stop("SIGTERM", 8000);
  const took = Date.now() - started;
  assert.equal(code, 0, `exit status; stderr: ${sidecar.stderr().slice(-2000)}`);
  assert.ok(took < 4000, `SIGTERM took ${took} ms`);
}

/**
 * The refused `bad` path next to a normal file: the normal file streams, `bad` gets one error
 * naming `kind`, the gauge says so, and once `bad` is replaced by a regular file it is followed.
 */
async function refusedBeside(t: { after(fn: () => void | Promise<void>): void }, dir: string, bad: string, kind: string, replace: () => void): Promise<void> {
  const good = join(dir, "good.log");
  writeFileSync(good, numberedLines(1, 500));
  const sidecar = startSidecar(t, ["--file", bad, "--file", good, ...FAST]);
  await waitForLines(sidecar, 500, 10_000);
  await until(async () => (await notFollowed(sidecar, bad, kind)) === 1, 5000, () => `the gauge for ${kind}; stderr: ${sidecar.stderr().slice(-2000)}`);
  await sleep(1000); // ten polls: the path is looked at again, and must not be reported again
  const msgs = messagesFor(sidecar, bad);
  assert.equal(msgs.length, 1, `one message for ${bad}: ${JSON.stringify(msgs)}`);
  assert.equal(msgs[0]!.level, "error");
  assert.equal(msgs[0]!.reason, kind);
  replace();
  writeFileSync(bad, numberedLines(501, 600));
  await waitForLines(sidecar, 600, 5000);
  assert.equal(await notFollowed(sidecar, bad, kind), undefined, "the gauge is gone once the path is followed");
  await assertStopsPromptly(sidecar);
  const nums = sidecar.stdout().toString().split("\n").filter(Boolean).map(Number).sort((a, b) => a - b);
  assertExactlyOnce(Buffer.from(nums.join("\n") + "\n"), 600);
}

test("a FIFO with no writer next to a normal file: the file streams, the FIFO is refused, SIGTERM exits 0 at once; a regular file put in its place is followed", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, "pipe.log");
  execFileSync("mkfifo", [fifo]);
  await refusedBeside(t, dir, fifo, "fifo", () => unlinkSync(fifo));
});

test("a symlink to a FIFO is refused as the FIFO it leads to", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  execFileSync("mkfifo", [join(dir, "target.fifo")]);
  const link = join(dir, "link.log");
  symlinkSync("target.fifo", link);
  await refusedBeside(t, dir, link, "fifo", () => unlinkSync(link));
});

test("a directory at a followed path is refused for that path alone; removed and replaced by a file, it is followed", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const sub = join(dir, "dir.log");
  mkdirSync(sub);
  await refusedBeside(t, dir, sub, "directory", () => rmdirSync(sub));
});

test("a Unix socket at a followed path is refused", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const sock = join(dir, "sock.log");
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(sock, resolve));
  t.after(() => server.close());
  await refusedBeside(t, dir, sock, "socket", () => {
    server.close();
    if (existsSync(sock)) unlinkSync(sock);
  });
});

test("a procfs file that reports size 0 (/proc/self/environ) is refused: one message, nothing written for it", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const good = join(dir, "good.log");
  writeFileSync(good, numberedLines(1, 100));
  const environ = "/proc/self/environ";
  const sidecar = startSidecar(t, ["--file", environ, "--file", good, ...FAST], { TAILCAR_TEST_MARK: "x".repeat(1000) });
  await waitForLines(sidecar, 100, 10_000);
  await until(async () => (await notFollowed(sidecar, environ, "pseudo-file")) === 1, 5000, () => `the gauge; stderr: ${sidecar.stderr().slice(-2000)}`);
  await sleep(1500);
  assert.equal(messagesFor(sidecar, environ).length, 1, sidecar.stderr().slice(0, 2000));
  await assertStopsPromptly(sidecar);
  assertExactlyOnce(sidecar.stdout(), 100);
});

const SYSFS = "/sys/kernel/mm/transparent_hugepage/enabled";

test("a sysfs file (it reports 4096 bytes and holds fewer) is refused", { timeout: 30_000, skip: !existsSync(SYSFS) && `${SYSFS} is not here` }, async (t) => {
  const dir = tempDir(t);
  const good = join(dir, "good.log");
  writeFileSync(good, numberedLines(1, 100));
  const sidecar = startSidecar(t, ["--file", SYSFS, "--file", good, ...FAST]);
  await waitForLines(sidecar, 100, 10_000);
  await until(async () => (await notFollowed(sidecar, SYSFS, "pseudo-file")) === 1, 5000, () => `the gauge; stderr: ${sidecar.stderr().slice(-2000)}`);
  await assertStopsPromptly(sidecar);
  assertExactlyOnce(sidecar.stdout(), 100);
});

test("a file the sidecar may not read (EACCES) is reported as an error and in the gauge, the others stream, and it is followed once readable", { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  // Root reads any file: run the sidecar as nobody when we are root.
  const as = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : undefined;
  chmodSync(dir, 0o755);
  const good = join(dir, "good.log");
  const secret = join(dir, "secret.log");
  writeFileSync(good, numberedLines(1, 100));
  writeFileSync(secret, numberedLines(101, 200), { mode: 0o644 });
  chmodSync(secret, 0o000);
  t.after(() => rmSync(secret, { force: true }));
  const sidecar = startSidecar(t, ["--file", secret, "--file", good, ...FAST], {}, "pipe", as);
  await waitForLines(sidecar, 100, 10_000);
  await until(async () => (await notFollowed(sidecar, secret, "EACCES")) === 1, 5000, () => `the gauge; stderr: ${sidecar.stderr().slice(-2000)}`);
  await sleep(1000);
  const msgs = messagesFor(sidecar, secret);
  assert.equal(msgs.length, 1, JSON.stringify(msgs));
  assert.equal(msgs[0]!.level, "error");
  chmodSync(secret, 0o644);
  await waitForLines(sidecar, 200, 5000);
  assert.equal(await notFollowed(sidecar, secret, "EACCES"), undefined);
  await assertStopsPromptly(sidecar);
  const nums = sidecar.stdout().toString().split("\n").filter(Boolean).map(Number).sort((a, b) => a - b);
  assertExactlyOnce(Buffer.from(nums.join("\n") + "\n"), 200);
});

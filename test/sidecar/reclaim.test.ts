// --reclaim's rules (what may be freed), its restart, and its failures on real filesystems and tools:
// a filesystem that cannot punch holes (ramfs), a fallocate that cannot (busybox's), a file the
// sidecar may not write. Each failure is one warning and a counted metric; nothing is lost.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { classifyPunchFailure } from "../../sidecar/punch-hole.ts";
import { KEPT_BEFORE_OFFSET, KEPT_HEAD_BYTES, reclaimRange } from "../../sidecar/reclaim.ts";
import { assertExactlyOnce, numberedLines, scrapeLabelled, startSidecar, tempDir, until, waitForLines, waitUntilFollowing, type Sidecar } from "./harness.ts";

const MiB = 1024 * 1024;
const FAST = ["--checkpoint-interval", "100ms", "--poll-interval", "50ms"];

test("reclaimRange frees whole blocks after the first, up to before the checkpoint's last bytes, once a step is due", () => {
  assert.equal(KEPT_HEAD_BYTES, 4096);
  assert.equal(reclaimRange(MiB, 0, MiB), undefined, "less than a step past the kept head");
  assert.deepEqual(reclaimRange(2 * MiB, 0, MiB), { offset: 4096, length: 2 * MiB - 4096 - 4096 });
  // Never past the checkpoint, and the bytes just before it are kept (a resume checks them).
  for (const offset of [2 * MiB, 2 * MiB + 1, 2 * MiB + 63, 2 * MiB + 64, 3 * MiB - 1]) {
    const r = reclaimRange(offset, 0, MiB)!;
    assert.ok(r.offset + r.length <= offset - KEPT_BEFORE_OFFSET, `offset ${offset}: ${JSON.stringify(r)}`);
    assert.equal((r.offset + r.length) % 4096, 0);
  }
  assert.deepEqual(reclaimRange(2 * MiB + 64, 0, MiB), { offset: 4096, length: 2 * MiB - 4096 });
  // From where the last punch ended; nothing until a step more is due.
  assert.equal(reclaimRange(3 * MiB - 4096, 2 * MiB, MiB), undefined);
  assert.deepEqual(reclaimRange(3 * MiB + 64, 2 * MiB, MiB), { offset: 2 * MiB, length: MiB });
});

test("a fallocate failure is told apart by its message: no support, no permission, no tool that punches", () => {
  assert.equal(classifyPunchFailure("fallocate: fallocate failed: Operation not supported"), "unsupported");
  assert.equal(classifyPunchFailure("fallocate: fallocate failed: keep size mode is unsupported"), "unsupported");
  assert.equal(classifyPunchFailure("fallocate: cannot open /proc/self/fd/3: Permission denied"), "denied");
  assert.equal(classifyPunchFailure("fallocate: cannot open /proc/self/fd/3: Read-only file system"), "denied");
  assert.equal(classifyPunchFailure("fallocate: unrecognized option '--punch-hole'\nBusyBox v1.35.0 multi-call binary.\n\nUsage: fallocate [-o OFS] -l LEN FILE"), "no-tool");
  assert.equal(classifyPunchFailure("", "ENOENT"), "no-tool");
  assert.equal(classifyPunchFailure("fallocate: fallocate failed: No space left on device"), "failed");
});

const reclaimWarnings = (s: Sidecar) => s.diagnostics().filter((d) => typeof d.msg === "string" && d.msg.startsWith("reclaim:"));

test("after reclaim freed the start of a file, a restart resumes at its checkpoint, and every line arrives once", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, "tailcar-reclaim-");
  const file = join(dir, "app.log");
  const args = ["--file", file, "--checkpoint-dir", join(dir, "cp"), "--reclaim", "1Mi", ...FAST];
  writeFileSync(file, numberedLines(1, 600_000)); // 4.4 MB
  const first = startSidecar(t, args);
  await waitForLines(first, 600_000, 20_000);
  const size = statSync(file).size;
  await until(() => statSync(file).blocks * 512 < MiB + 64 * 1024, 10_000, () => `the file's blocks to be freed (${statSync(file).blocks * 512} bytes on disk of ${size}); stderr: ${first.stderr().slice(-2000)}`);
  // Lines added while it still runs, then a clean stop, more lines, a new sidecar.
  appendFileSync(file, numberedLines(600_001, 700_000));
  await waitForLines(first, 700_000, 20_000);
  assert.equal(await first.stop(), 0);
  appendFileSync(file, numberedLines(700_001, 800_000));
  const second = startSidecar(t, args);
  await waitUntilFollowing(second);
  await waitForLines(second, 100_000, 20_000);
  assert.ok(second.diagnostics().some((d) => d.msg === "resuming from checkpoint"), second.stderr());
  assertExactlyOnce(Buffer.concat([first.stdout(), second.stdout()]), 800_000);
  assert.deepEqual([...reclaimWarnings(first), ...reclaimWarnings(second)], []);
});

test("reclaim across a rename rotation and a truncation punches only delivered lines of the file it read: every line once, no zeros", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, "tailcar-reclaim-");
  const file = join(dir, "app.log");
  const onDisk = (path: string): number => statSync(path).blocks * 512;
  writeFileSync(file, numberedLines(1, 300_000)); // 2.1 MB
  const sidecar = startSidecar(t, ["--file", file, "--checkpoint-dir", join(dir, "cp"), "--reclaim", "1Mi", ...FAST]);
  await waitForLines(sidecar, 300_000, 20_000);
  await until(() => onDisk(file) < MiB, 10_000, () => `the first file's delivered blocks freed (${onDisk(file)} bytes on disk)`);
  // Rotated by rename: the new file at the path is read from its start, and freed once delivered.
  renameSync(file, `${file}.1`);
  writeFileSync(file, numberedLines(300_001, 600_000));
  await waitForLines(sidecar, 600_000, 20_000);
  await until(() => onDisk(file) < MiB, 10_000, () => `the second file's delivered blocks freed (${onDisk(file)} bytes on disk)`);
  // Truncated and refilled in place: read again from 0; what was freed before is not taken as delivered.
  truncateSync(file, 0);
  appendFileSync(file, numberedLines(600_001, 900_000));
  await waitForLines(sidecar, 900_000, 20_000);
  await until(() => onDisk(file) < MiB, 10_000, () => `the refilled file's delivered blocks freed (${onDisk(file)} bytes on disk)`);
  assert.equal(await sidecar.stop(), 0);
  const out = sidecar.stdout();
  assert.equal(out.indexOf(0), -1, "no zero byte in the output");
  assertExactlyOnce(out, 900_000);
  assert.deepEqual(reclaimWarnings(sidecar), []);
});

/** Streams `lines` numbered lines through a sidecar with --reclaim 1Mi; returns it once all arrived. */
async function streamWithReclaim(t: Parameters<typeof tempDir>[0], dir: string, file: string, env: Record<string, string> = {}, as?: { uid: number; gid: number }): Promise<Sidecar> {
  const cp = join(dir, "cp");
  mkdirSync(cp);
  if (as) chownSync(cp, as.uid, as.gid);
  writeFileSync(file, numberedLines(1, 300_000), { mode: 0o644 }); // 2.1 MB
  const sidecar = startSidecar(t, ["--file", file, "--checkpoint-dir", cp, "--reclaim", "1Mi", "--metrics-port", "0", ...FAST], env, "pipe", as);
  await waitForLines(sidecar, 300_000, 20_000);
  appendFileSync(file, numberedLines(300_001, 400_000));
  await waitForLines(sidecar, 400_000, 20_000);
  // Several checkpoints after the failure: it is said once.
  await until(() => sidecar.metricsPort() !== undefined, 5000, "the metrics port");
  await new Promise((r) => setTimeout(r, 500));
  return sidecar;
}

async function assertFailedOnce(sidecar: Sidecar, file: string, reason: string): Promise<void> {
  const warnings = reclaimWarnings(sidecar);
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.equal(warnings[0]!.level, "warn");
  assert.equal(warnings[0]!.reason, reason, JSON.stringify(warnings[0]));
  const port = sidecar.metricsPort()!;
  assert.equal(await scrapeLabelled(port, "tailcar_sidecar_reclaim_failures_total", { file }), 1);
  assert.equal(await scrapeLabelled(port, "tailcar_sidecar_reclaimed_bytes_total", { file }), 0);
  assert.equal(await sidecar.stop(), 0);
  assertExactlyOnce(sidecar.stdout(), 400_000);
}

const root = process.getuid?.() === 0;

test("on a filesystem that cannot punch holes (ramfs), reclaim says so once, counts it, frees nothing and loses nothing", { timeout: 60_000, skip: root ? false : "mounting ramfs needs root" }, async (t) => {
  // Unmounted before the temporary directory is removed (after-hooks run in order), lazily: the
  // sidecar, stopped last, may still hold the file.
  const mnt = mkdtempSync(join(tmpdir(), "tailcar-ramfs-"));
  execFileSync("mount", ["-t", "ramfs", "ramfs", mnt]);
  t.after(() => {
    execFileSync("umount", ["-l", mnt]);
    rmSync(mnt, { recursive: true, force: true });
  });
  const dir = tempDir(t, "tailcar-reclaim-");
  const file = join(mnt, "app.log");
  const sidecar = await streamWithReclaim(t, dir, file);
  await assertFailedOnce(sidecar, file, "unsupported");
});

test("with a fallocate that cannot punch holes (busybox's), reclaim says so once and loses nothing", { timeout: 60_000, skip: existsSync("/bin/busybox") ? false : "no /bin/busybox" }, async (t) => {
  const dir = tempDir(t, "tailcar-reclaim-");
  const bin = join(dir, "bin");
  mkdirSync(bin);
  symlinkSync("/bin/busybox", join(bin, "fallocate"));
  const file = join(dir, "app.log");
  const sidecar = await streamWithReclaim(t, dir, file, { PATH: `${bin}:${process.env.PATH}` });
  await assertFailedOnce(sidecar, file, "no-tool");
});

test("when the sidecar may read the file but not write it, reclaim says so once and loses nothing", { timeout: 60_000, skip: root ? false : "running the sidecar as another user needs root" }, async (t) => {
  const dir = tempDir(t, "tailcar-reclaim-");
  chmodSync(dir, 0o755);
  const file = join(dir, "app.log");
  const sidecar = await streamWithReclaim(t, dir, file, {}, { uid: 65534, gid: 65534 });
  await assertFailedOnce(sidecar, file, "denied");
});

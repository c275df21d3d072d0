// Frees a range of a file's disk blocks: fallocate(2) with FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
// which Node has no binding for, run as util-linux's `fallocate --punch-hole` (it implies
// --keep-size: the file keeps its size and every offset, the range reads as zeros). The child is
// given our descriptor as its fd 3 and opens /proc/self/fd/3, the very file we read, whatever its
// name is now: no path is looked up, so a rotation between our check and the punch cannot make it
// punch another file. Opening it for writing needs the write permission and a writable mount.
// One child per punch costs about 15 ms of CPU in all (docs/decisions.md, "Bounded disk").
import { spawn } from "node:child_process";
import type { OpenFile } from "./files.ts";

/** Why a punch failed: unsupported (the filesystem), denied (permission, read-only mount), no-tool (no fallocate that punches), failed (anything else). */
export type PunchFailure = "unsupported" | "denied" | "no-tool" | "failed";

export type PunchResult = { readonly ok: true } | { readonly ok: false; readonly reason: PunchFailure; readonly message: string };

/** The failure a fallocate run reports by its stderr (or the spawn error's code), pure. */
export function classifyPunchFailure(stderr: string, spawnCode?: string): PunchFailure {
  if (spawnCode === "ENOENT" || spawnCode === "EACCES") return "no-tool";
  // EOPNOTSUPP: strerror's "Operation not supported", or util-linux's own "keep size mode is unsupported".
  if (/not supported|unsupported/i.test(stderr)) return "unsupported";
  if (/permission denied|read-only file system|operation not permitted/i.test(stderr)) return "denied";
  // busybox's fallocate (the e2e images' /bin) preallocates only: it refuses the option.
  if (/unrecognized option|invalid option|usage:/i.test(stderr)) return "no-tool";
  return "failed";
}

/** The command that punches [offset, offset+length) of the file at fd 3. */
export const PUNCH_COMMAND = "fallocate";
export function punchArgs(offset: number, length: number): string[] {
  return ["--punch-hole", "--offset", String(offset), "--length", String(length), "/proc/self/fd/3"];
}

/**
 * Punches [offset, offset+length) of `fh`. Throws EBADF when `fh` is closed; `stillOurs` is asked
 * just before the child starts (synchronously, with nothing awaited after it): false skips it.
 */
export function punchHole(fh: OpenFile, offset: number, length: number, stillOurs: () => boolean): Promise<PunchResult | "skipped"> {
  if (!stillOurs()) return Promise.resolve("skipped");
  return new Promise((resolve) => {
    // spawn() hands the descriptor to the child before it returns, so it cannot be another file's.
    const child = fh.lendFd((fd) => spawn(PUNCH_COMMAND, punchArgs(offset, length), { stdio: ["ignore", "ignore", "pipe", fd] }));
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => {
      if (stderr.length < 4096) stderr += d;
    });
    child.once("error", (e: NodeJS.ErrnoException) => resolve({ ok: false, reason: classifyPunchFailure("", e.code), message: `${PUNCH_COMMAND}: ${e.message}` }));
    child.once("close", (code, signal) => {
      if (code === 0) return resolve({ ok: true });
      if (code === null) return resolve({ ok: false, reason: "failed", message: `${PUNCH_COMMAND} killed by ${signal}` });
      const text = stderr.trim() || `exit ${code}`;
      resolve({ ok: false, reason: classifyPunchFailure(text), message: text });
    });
  });
}

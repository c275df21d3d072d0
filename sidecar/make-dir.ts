// `mkdir -p` for the checkpoint directory, without node's recursive mkdir: that one loops forever,
// at full CPU, when mkdir says ENOENT although the parent exists (a directory under /proc, or one
// inside a directory deleted while in use): measured on Node 24.9, `mkdirSync("/proc/x",
// { recursive: true })` never returns, and the async form spins a pool thread and the event loop.
// Here each level is tried at most twice, so a directory that cannot be made is an error at once.
import { dirname } from "node:path";

const fs = process.getBuiltinModule("node:fs");

function mkdirOnce(path: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => fs.mkdir(path, (err) => resolve(err)));
}

function isDirectory(path: string): Promise<boolean> {
  return new Promise((resolve) => fs.stat(path, (err, st) => resolve(!err && st.isDirectory())));
}

/** Makes `path` and its missing parents; rejects with the errno error of the level that failed. */
export async function makeDir(path: string): Promise<void> {
  let err = await mkdirOnce(path);
  if (err?.code === "ENOENT") {
    const parent = dirname(path);
    if (parent === path) throw err;
    await makeDir(parent);
    err = await mkdirOnce(path); // once: a second ENOENT is final, not a reason to go round again
  }
  if (!err) return;
  if (err.code === "EEXIST") {
    if (await isDirectory(path)) return;
    throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${path}'`), { code: "ENOTDIR" });
  }
  throw err;
}

// One small versioned JSON file per followed path, replaced atomically (temp file, fsync, rename,
// fsync of the directory), holding the offset just after the last line the sink acknowledged.
import { join } from "node:path";
import { mkdirp, open, readFile, removeFile, rename } from "./files.ts";
import type { FileIdentity } from "./identity.ts";
import { sha256Hex } from "./sha256.ts";

export const CHECKPOINT_VERSION = 1;

export interface Checkpoint {
  readonly version: typeof CHECKPOINT_VERSION;
  /** The followed name, as given to --file. */
  readonly path: string;
  readonly identity: FileIdentity;
  /** Byte offset just after the last line fully written. */
  readonly offset: number;
  /** Hash of the (up to 64) bytes before offset, checked on resume. */
  readonly tail: { readonly length: number; readonly sha256: string };
  /** ISO-8601 time of saving. */
  readonly savedAt: string;
  /** Birth time (ns, decimal) of the checkpointed file, when the filesystem keeps one: after a
   * restart, siblings born later are generations not read yet. */
  readonly birthtimeNs?: string;
}

const fileNames = new Map<string, string>();

/** The checkpoint file for a followed path: named by a hash, since paths hold slashes. */
export function checkpointFile(dir: string, path: string): string {
  let name = fileNames.get(path);
  if (name === undefined) {
    // Remembered: a save every second would otherwise hash the same path every second.
    name = `${sha256Hex(path).slice(0, 16)}.json`;
    if (fileNames.size >= 1024) fileNames.clear();
    fileNames.set(path, name);
  }
  return join(dir, name);
}

function isCheckpoint(v: unknown, path: string): v is Checkpoint {
  if (typeof v !== "object" || v === null) return false;
  const c = v as Partial<Checkpoint>;
  const id = c.identity as Partial<FileIdentity> | undefined;
  return (
    c.version === CHECKPOINT_VERSION &&
    c.path === path &&
    typeof c.offset === "number" &&
    Number.isSafeInteger(c.offset) &&
    c.offset >= 0 &&
    typeof id?.dev === "string" &&
    typeof id.ino === "string" &&
    typeof id.fingerprint === "string" &&
    typeof id.fingerprintLength === "number" &&
    typeof c.tail?.sha256 === "string" &&
    typeof c.tail.length === "number"
  );
}

export type Loaded = { checkpoint: Checkpoint } | { checkpoint: undefined; problem?: string };

/** The saved checkpoint for `path`, or why there is none usable (a missing file is not a problem). */
export async function loadCheckpoint(dir: string, path: string): Promise<Loaded> {
  const file = checkpointFile(dir, path);
  let text: string;
  try {
    text = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { checkpoint: undefined };
    return { checkpoint: undefined, problem: `cannot read checkpoint ${file}: ${(e as Error).message}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return { checkpoint: undefined, problem: `checkpoint ${file} is not JSON: ${(e as Error).message}` };
  }
  if (!isCheckpoint(parsed, path)) {
    return { checkpoint: undefined, problem: `checkpoint ${file} is not a version ${CHECKPOINT_VERSION} checkpoint for ${path}` };
  }
  return { checkpoint: parsed };
}

export async function saveCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  await mkdirp(dir);
  const file = checkpointFile(dir, checkpoint.path);
  const temp = `${file}.${process.pid}.tmp`;
  const fh = await open(temp, "w");
  try {
    await fh.writeFile(JSON.stringify(checkpoint) + "\n");
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await rename(temp, file);
  } catch (e) {
    await removeFile(temp);
    throw e;
  }
  // The rename itself is only durable once the directory is synced.
  const dirHandle = await open(dir, "r");
  try {
    await dirHandle.sync();
  } finally {
    await dirHandle.close();
  }
}

// One small versioned JSON file per followed path, replaced atomically (temp file, fsync, rename,
// fsync of the directory), holding the offset just after the last line the sink acknowledged.
import { join } from "node:path";
import { open, readFile, removeFile, rename, type OpenFile } from "./files.ts";
import type { FileIdentity } from "./identity.ts";
import { sha256Hex } from "./sha256.ts";

/**
 * 2: `offset` may be inside a line (`midLine`), and `pending` may hold output owed to the reader.
 * Version 1 files (always at a line boundary, nothing owed) load as they are. A version 1 sidecar
 * refuses a version 2 file (and reads from the start) instead of dropping what is owed.
 */
export const CHECKPOINT_VERSION = 2;

export interface Checkpoint {
  readonly version: typeof CHECKPOINT_VERSION;
  /** The followed name, as given to --file. */
  readonly path: string;
  readonly identity: FileIdentity;
  /**
   * Where reading resumes: just after the last byte the output took. At a line boundary, except
   * at a shutdown that found stdout blocked, which records the exact byte the pipe took.
   */
  readonly offset: number;
  /** `offset` is inside a line: the reader has the line's start, the restart sends the rest. */
  readonly midLine?: true;
  /**
   * Base64 of output the reader is owed before anything read from `offset`: the rest of a batch
   * the pipe took in part, when that output is not the file's bytes as they are (JSON, a split
   * long line). Written first after a restart.
   */
  readonly pending?: string;
  /** Hash of the (up to 64) bytes before offset, checked on resume. */
  readonly tail: { readonly length: number; readonly sha256: string };
  /** ISO-8601 time of saving. */
  readonly savedAt: string;
  /** Birth time (ns, decimal) of the checkpointed file, when the filesystem keeps one: after a
   * restart, siblings born later are generations not read yet. */
  readonly birthtimeNs?: string;
  /**
   * Forwarding: the time anchor of the lines from `offset` on (line-times.ts), saved before the
   * first line it stamps was sent, so lines sent again after a crash carry the same times. `ns` in
   * decimal. Older sidecars ignore it (the field is optional: no version change).
   */
  readonly times?: SavedTimes;
  /**
   * Forwarding with --multiline: a record was ended at this offset (past `offset`) by
   * --multiline-timeout, not by its lines, and may have been sent so; a restart ends the record it
   * holds here too, so it sends the same records again. Saved before that record was sent.
   */
  readonly cut?: number;
  /**
   * Forwarding with --multiline: the line at `offset` continues a record cut at the size cap
   * (--max-line-bytes), and this is the grouper's state after it (multiline.ts), so a restart
   * groups the lines after it as this run did.
   */
  readonly continues?: string;
}

export interface SavedTimes {
  readonly fileKey: string;
  readonly from: number;
  readonly ns: string;
  readonly until: number;
}

function isSavedTimes(t: unknown): t is SavedTimes {
  if (typeof t !== "object" || t === null) return false;
  const v = t as Partial<SavedTimes>;
  return (
    typeof v.fileKey === "string" &&
    Number.isSafeInteger(v.from) &&
    Number.isSafeInteger(v.until) &&
    v.from! >= 0 &&
    v.until! >= v.from! &&
    typeof v.ns === "string" &&
    /^\d{1,20}$/.test(v.ns)
  );
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

/** Versions this code reads: 1 is 2 without midLine and pending. */
const READABLE_VERSIONS: readonly number[] = [1, CHECKPOINT_VERSION];

function isCheckpoint(v: unknown, path: string): v is Omit<Checkpoint, "version"> & { version: number } {
  if (typeof v !== "object" || v === null) return false;
  const c = v as Partial<Omit<Checkpoint, "version">> & { version?: unknown };
  const id = c.identity as Partial<FileIdentity> | undefined;
  return (
    typeof c.version === "number" &&
    READABLE_VERSIONS.includes(c.version) &&
    (c.midLine === undefined || c.midLine === true) &&
    (c.pending === undefined || (typeof c.pending === "string" && /^[A-Za-z0-9+/]*={0,2}$/.test(c.pending))) &&
    c.path === path &&
    typeof c.offset === "number" &&
    Number.isSafeInteger(c.offset) &&
    c.offset >= 0 &&
    typeof id?.dev === "string" &&
    typeof id.ino === "string" &&
    typeof id.fingerprint === "string" &&
    typeof id.fingerprintLength === "number" &&
    typeof c.tail?.sha256 === "string" &&
    typeof c.tail.length === "number" &&
    // A resume that finds another file counts rotated generations from it (follower-plans.ts).
    typeof c.savedAt === "string" &&
    !Number.isNaN(Date.parse(c.savedAt))
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
    return { checkpoint: undefined, problem: `checkpoint ${file} is not a version ${READABLE_VERSIONS.join(" or ")} checkpoint for ${path}` };
  }
  // Version 1 differs only by lacking the two optional fields: migrated by relabelling. Times that
  // do not read are left out (the lines after the offset get new ones), not the whole checkpoint.
  const { times, cut, continues, ...rest } = parsed;
  const cutOk = Number.isSafeInteger(cut) && cut! > rest.offset;
  const continuesOk = typeof continues === "string" && /^[A-Za-z]{1,16}$/.test(continues);
  return { checkpoint: { ...rest, version: CHECKPOINT_VERSION, ...(isSavedTimes(times) ? { times } : {}), ...(cutOk ? { cut: cut! } : {}), ...(continuesOk ? { continues } : {}) } };
}

export async function saveCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const file = checkpointFile(dir, checkpoint.path);
  const temp = `${file}.${process.pid}.tmp`;
  let fh: OpenFile;
  try {
    fh = await open(temp, "w");
  } catch (e) {
    // The directory is made when it is missing, not checked before every save (and the module
    // that makes it is loaded only then: every module loaded costs RSS at idle).
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
    const { makeDir } = await import("./make-dir.ts");
    await makeDir(dir);
    fh = await open(temp, "w");
  }
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

// The I/O of a glob (glob.ts): list the directories that may hold matches, and watch them. The
// listing is the truth; the watches (fs.watch, inotify on Linux) only end a wait early when a
// file or directory is created, renamed or deleted in one of them. Without a watch on every
// directory listed (none yet, an error, too many, or closed for a while because the files in them
// are written more than 20 times a second) the listing is repeated every --glob-interval; with
// them, every --quiet-poll-interval, the safety net for a lost event as for a quiet file.
import type { FSWatcher } from "node:fs";
import { mayHoldMatches, type Glob } from "../settings/file-glob.ts";

// Not a named import from "node:fs": its facade loads fs.promises and the fs streams (see files.ts).
const fs = process.getBuiltinModule("node:fs");

/** Directories listed (and watched) at most, per glob: a `**` over a large tree must stay bounded. */
export const MAX_GLOB_DIRS = 256;
/** Directory depth below the root at most (a symlink loop under `**`). */
export const MAX_GLOB_DEPTH = 32;
/** Writes a second to files in a glob's directories above which its watches close (the listing polls)... */
export const WRITTEN_MAX = 20;
/** ...for this long, then they are set up again. */
export const WRITTEN_PAUSE_MS = 10_000;

export interface Listing {
  /** Regular files (symlinks to them included) whose paths the pattern matches, excludes aside. */
  readonly files: string[];
  /** Directories listed. */
  readonly dirs: string[];
  /** Every directory that may hold matches was listed (false past MAX_GLOB_DIRS or on an error other than a missing directory). */
  readonly complete: boolean;
}

/** Lists the glob's directories from its root down, as far as they may hold matches. */
export function listGlob(g: Glob, matchesPath: (path: string) => boolean): Listing {
  const files: string[] = [];
  const dirs: string[] = [];
  let complete = true;
  const queue: { dir: string; depth: number }[] = [{ dir: g.root, depth: 0 }];
  while (queue.length > 0) {
    const { dir, depth } = queue.shift()!;
    if (dirs.length >= MAX_GLOB_DIRS) {
      complete = false;
      break;
    }
    let entries: import("node:fs").Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" && (e as NodeJS.ErrnoException).code !== "ENOTDIR") complete = false;
      continue;
    }
    dirs.push(dir);
    for (const d of entries) {
      const path = dir === "/" ? `/${d.name}` : `${dir}/${d.name}`;
      let isDir = d.isDirectory();
      let isFile = d.isFile();
      if (d.isSymbolicLink()) {
        let st: import("node:fs").Stats | undefined;
        try {
          st = fs.statSync(path, { throwIfNoEntry: false });
        } catch {
          st = undefined; // a link we may not follow (EACCES, ELOOP): neither file nor directory to us
        }
        isDir = st?.isDirectory() ?? false;
        isFile = st?.isFile() ?? false;
      }
      if (isFile && matchesPath(path)) files.push(path);
      else if (isDir && depth < MAX_GLOB_DEPTH && mayHoldMatches(g, path)) queue.push({ dir: path, depth: depth + 1 });
    }
  }
  return { files, dirs, complete };
}

/** Watches directories; a change in any of them ends the current wait (after `coalesceMs`). */
export class DirWatch {
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #coalesceMs: number;
  #changed = false;
  #resolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #window = false;
  #closed = false;
  /** Writes seen since #writtenSince (ms), and until when the watches stay closed because of them. */
  #writes = 0;
  #writtenSince = 0;
  #pausedUntil = 0;

  constructor(coalesceMs: number) {
    this.#coalesceMs = coalesceMs;
  }

  /**
   * Watches exactly `dirs` from now on; returns whether a watch stands on each. Not while the files
   * in them are written densely (#written): then the watches stay closed for WRITTEN_PAUSE_MS and
   * the caller lists at its poll pace.
   */
  watch(dirs: readonly string[]): boolean {
    if (this.#pausedUntil > Date.now() || this.#closed) return false;
    const wanted = new Set(dirs);
    for (const [dir, w] of this.#watchers) {
      if (wanted.has(dir)) continue;
      w.close();
      this.#watchers.delete(dir);
    }
    let all = true;
    for (const dir of wanted) {
      if (this.#watchers.has(dir)) continue;
      try {
        // A write to a file is a "change" event: only names created, renamed or deleted matter here.
        const w = fs.watch(dir, { persistent: false }, (event) => {
          if (event === "rename") this.changed();
          else this.#written();
        });
        w.on("error", () => {
          w.close();
          this.#watchers.delete(dir);
          this.changed();
        });
        this.#watchers.set(dir, w);
      } catch {
        all = false;
      }
    }
    return all && !this.#closed;
  }

  /**
   * A file in a watched directory was written. Each write is an event for the directory's watch (an
   * inotify watch on a directory reports its files' writes, and node cannot ask for less): at
   * 1,000 writes a second that doubled a one-file glob's CPU (docs/decisions.md, "Globs"). More
   * than WRITTEN_MAX in a second closes the watches for WRITTEN_PAUSE_MS.
   */
  #written(): void {
    const now = Date.now();
    if (now - this.#writtenSince > 1000) {
      this.#writtenSince = now;
      this.#writes = 0;
    }
    if (++this.#writes <= WRITTEN_MAX) return;
    this.#pausedUntil = now + WRITTEN_PAUSE_MS;
    this.#closeWatchers();
    this.changed(); // the wait in progress counted on the watches: the caller lists and paces itself anew
  }

  #closeWatchers(): void {
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  /** Something changed: the wait ends once the coalescing window has closed. */
  changed(): void {
    this.#changed = true;
    if (this.#resolve && !this.#window) this.#openWindow();
  }

  #openWindow(): void {
    this.#window = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#end(), this.#coalesceMs);
  }

  #end(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#window = false;
    this.#changed = false;
    const r = this.#resolve;
    this.#resolve = undefined;
    r?.();
  }

  /** Resolves after a change (and the coalescing window; one before the call counts), after `timeoutMs`, or at close. */
  wait(timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#resolve = resolve;
      if (this.#changed) this.#openWindow();
      else this.#timer = setTimeout(() => this.#end(), timeoutMs);
    });
  }

  close(): void {
    this.#closed = true;
    this.#closeWatchers();
    this.#end();
  }
}

// The I/O of a glob (glob.ts): list the directories that may hold matches, and watch them. The
// listing is the truth; the watches (fs.watch, inotify on Linux) only end a wait early when a
// file or directory is created, renamed or deleted in one of them. Without a watch on every
// directory listed (none yet, an error, too many) the listing is repeated every --glob-interval;
// with them, every --quiet-poll-interval, the safety net for a lost event as for a quiet file.
import type { FSWatcher } from "node:fs";
import { mayHoldMatches, type Glob } from "../settings/file-glob.ts";

// Not a named import from "node:fs": its facade loads fs.promises and the fs streams (see files.ts).
const fs = process.getBuiltinModule("node:fs");

/** Directories listed (and watched) at most, per glob: a `**` over a large tree must stay bounded. */
export const MAX_GLOB_DIRS = 256;
/** Directory depth below the root at most (a symlink loop under `**`). */
export const MAX_GLOB_DEPTH = 32;

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
        const st = fs.statSync(path, { throwIfNoEntry: false });
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

  constructor(coalesceMs: number) {
    this.#coalesceMs = coalesceMs;
  }

  /** Watches exactly `dirs` from now on; returns whether a watch stands on each. */
  watch(dirs: readonly string[]): boolean {
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
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    this.#end();
  }
}

// Wake-ups for one followed path: fs.watch on its directory is only a hint (inotify queues
// overflow, and a symlink's target may live elsewhere); the caller's timeout is the stat poll
// that stays the truth.
import type { FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

// Not a named import from "node:fs": its facade loads fs.promises and the fs streams (see files.ts).
const { watch, lstatSync } = process.getBuiltinModule("node:fs");

export class Waker {
  readonly #path: string;
  readonly #dir: string;
  readonly #name: string;
  #watcher: FSWatcher | undefined;
  #pending = false;
  #renamed = false;
  #resolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(path: string) {
    this.#path = path;
    this.#dir = dirname(path);
    this.#name = basename(path);
  }

  /**
   * Whether writes to the file wake us: an fs.watch stands on its directory (it is set up again at
   * each wait after an error) and the path is not a symlink, whose target's writes would show in
   * another directory.
   */
  get watching(): boolean {
    return this.#watcher !== undefined && lstatSync(this.#path, { throwIfNoEntry: false })?.isSymbolicLink() !== true;
  }

  /** Something changed in the directory since the last call (creation, rename, deletion). */
  takeRenamed(): boolean {
    const r = this.#renamed;
    this.#renamed = false;
    return r;
  }

  #arm(): void {
    if (this.#watcher || this.#closed) return;
    try {
      this.#watcher = watch(this.#dir, { persistent: false }, (event, filename) => {
        if (filename !== null && filename !== this.#name) return;
        if (event === "rename") this.#renamed = true;
        this.wake();
      });
      this.#watcher.on("error", () => {
        // The directory went away: fall back to polling and try again on the next wait.
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      // No directory yet (or no inotify): the poll alone will find the file.
    }
  }

  wake(): void {
    this.#pending = true;
    const r = this.#resolve;
    if (r) {
      this.#resolve = undefined;
      clearTimeout(this.#timer);
      r();
    }
  }

  /** Resolves on a hint or after timeoutMs, whichever comes first; a hint that came before the call counts. */
  wait(timeoutMs: number): Promise<void> {
    this.#arm();
    if (this.#pending || this.#closed) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = () => {
        this.#pending = false;
        resolve();
      };
      this.#timer = setTimeout(() => this.wake(), Math.max(0, timeoutMs));
    });
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.wake();
  }
}

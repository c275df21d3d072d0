// Wake-ups for one followed path: fs.watch on its directory is only a hint (inotify queues
// overflow, and a symlink's target may live elsewhere); the caller's timeout is the stat poll
// that stays the truth. A hint is answered after --coalesce (default 15 ms), not at once, and
// while bytes keep coming, more than one write a window, the watch is closed and the file read
// every --coalesce instead: each
// watch event costs a wake-up of its own (an epoll return, an inotify read, a JS callback), which
// at 1,000 writes a second was most of the sidecar's CPU whatever the window. The watch is set up
// again when a read finds nothing new, and one more read follows, for bytes written in between
// (docs/decisions.md, "The coalescing window").
import type { FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";
import { SharedWindow } from "./shared-window.ts";

// Not a named import from "node:fs": its facade loads fs.promises and the fs streams (see files.ts).
const { watch, lstatSync } = process.getBuiltinModule("node:fs");

export class Waker {
  readonly #path: string;
  readonly #dir: string;
  readonly #name: string;
  readonly #coalesceMs: number;
  readonly #shared: SharedWindow;
  /** Leaves the shared window this wait joined. */
  #leave: (() => void) | undefined;
  #watcher: FSWatcher | undefined;
  /** A hint came that no wait has answered yet. */
  #hinted = false;
  /** Something must end the wait at once (a stop, a close). */
  #urgent = false;
  #renamed = false;
  #resolve: (() => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** The window opened by a hint: the wait ends when it closes. */
  #window = false;
  /** Watch events since the last wait began. */
  #hints = 0;
  /** The watch is closed because bytes were flowing. */
  #suspended = false;
  #closed = false;

  /**
   * `coalesceMs`: how long after a hint the wait ends at most (0: at once). `shared`: the window of
   * the sidecar's other followers, joined while open (its length is theirs; without one, a window of
   * this waker's own).
   */
  constructor(path: string, coalesceMs = 0, shared = new SharedWindow(coalesceMs)) {
    this.#path = path;
    this.#dir = dirname(path);
    this.#name = basename(path);
    this.#coalesceMs = coalesceMs;
    this.#shared = shared;
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

  /** Closes the watch while bytes flow (the next waits are windows); the wait after one that found nothing sets it up again. */
  #disarm(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#suspended = true;
  }

  #arm(): void {
    if (this.#watcher || this.#closed) return;
    try {
      this.#watcher = watch(this.#dir, { persistent: false }, (event, filename) => {
        if (filename !== null && filename !== this.#name) return;
        if (event === "rename") this.#renamed = true;
        this.#hint();
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

  /** A watch event: the wait ends when the coalescing window closes. */
  #hint(): void {
    this.#hinted = true;
    this.#hints++;
    if (this.#resolve && !this.#window) this.#openWindow();
  }

  #openWindow(): void {
    if (this.#coalesceMs <= 0) {
      this.#end();
      return;
    }
    this.#window = true;
    clearTimeout(this.#timer);
    this.#leave?.();
    this.#leave = this.#shared.join(() => this.#end());
  }

  #end(): void {
    const r = this.#resolve;
    if (!r) return;
    this.#resolve = undefined;
    this.#window = false;
    clearTimeout(this.#timer);
    this.#leave?.();
    this.#leave = undefined;
    r();
  }

  /** Ends the wait now (a stop, another reason to step): no coalescing window. */
  wake(): void {
    this.#urgent = true;
    this.#end();
  }

  /**
   * Resolves after a hint (once the coalescing window has closed) or after timeoutMs, whichever
   * comes first; a hint that came before the call counts, and opens its window now. `flowing`: the
   * last wake-up found new bytes; then, if more than one write came since the last wait began (and
   * with a window), the watch is closed and the wait is one window long.
   */
  wait(timeoutMs: number, flowing = false): Promise<void> {
    // Dense: more than one write since the last wait began (or polling already). A lone write a
    // window keeps the watch: closing and setting it up again would cost more than its event.
    const dense = this.#suspended || this.#hints > 1;
    this.#hints = 0;
    if (this.#coalesceMs > 0 && flowing && dense && !this.#closed) {
      this.#disarm();
      this.#hinted = true; // read again once the window has closed
    } else if (this.#watcher === undefined && this.#suspended) {
      // The watch was closed while bytes came: what was written before it stands again is read.
      this.#suspended = false;
      this.#arm();
      this.#hinted = true;
    } else this.#arm();
    if (this.#urgent || this.#closed || (this.#hinted && this.#coalesceMs <= 0)) {
      this.#urgent = this.#hinted = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#resolve = () => {
        this.#urgent = this.#hinted = false;
        resolve();
      };
      if (this.#hinted) this.#openWindow();
      else this.#timer = setTimeout(() => this.#end(), Math.max(0, timeoutMs));
    });
  }

  close(): void {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.wake();
  }
}

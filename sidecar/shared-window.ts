// One coalescing window for all the followers of a sidecar: a follower's window, once a watch event
// (or its flowing read) opens it, is the one already open if there is one, so every follower with
// something to read within the window steps on the same timer, one wake-up of the process for them
// all instead of one each (10 files written 100 times a second each: docs/decisions.md, "One
// coalescing window for a sidecar's followers"). A window joined late closes sooner, never later:
// no follower waits longer than --coalesce. No timer stands while no one waits (idle wake-ups).
export class SharedWindow {
  readonly #ms: number;
  #timer: NodeJS.Timeout | undefined;
  readonly #waiting = new Set<() => void>();

  /** `ms`: how long a window stays open from the first join. */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /** Calls `end` when the window closes, opening one if none is open. Returns what leaves it before then. */
  join(end: () => void): () => void {
    this.#waiting.add(end);
    this.#timer ??= setTimeout(() => this.#close(), this.#ms);
    return () => {
      if (!this.#waiting.delete(end) || this.#waiting.size > 0) return;
      clearTimeout(this.#timer);
      this.#timer = undefined;
    };
  }

  #close(): void {
    this.#timer = undefined;
    const ends = [...this.#waiting];
    this.#waiting.clear();
    for (const end of ends) end();
  }
}

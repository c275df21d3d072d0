// When checkpoint saves keep failing (the directory cannot be made, is read-only, is full), the
// next try waits longer each time, doubling from --checkpoint-interval up to a minute, and the
// error is logged at most once a minute with the number of failures in between: a broken
// directory costs a few system calls a minute and one stderr line, not a save and a line every
// interval. Pure: the caller passes the clock.

export const SAVE_BACKOFF_MAX_MS = 60_000;
export const SAVE_FAILURE_LOG_EVERY_MS = 60_000;

export interface SaveFailure {
  /** Log this failure now (false: it is only counted, for the next line). */
  readonly log: boolean;
  /** Failures since the last line logged, this one included. */
  readonly failures: number;
  readonly retryInMs: number;
}

export class SaveBackoff {
  readonly #intervalMs: number;
  #consecutive = 0;
  #retryAt = 0;
  #loggedAt = Number.NEGATIVE_INFINITY;
  #unlogged = 0;

  constructor(intervalMs: number) {
    this.#intervalMs = intervalMs;
  }

  /** Whether a periodic save may run now. */
  due(now: number): boolean {
    return now >= this.#retryAt;
  }

  failed(now: number): SaveFailure {
    this.#consecutive++;
    this.#unlogged++;
    const retryInMs = Math.min(this.#intervalMs * 2 ** Math.min(this.#consecutive, 30), Math.max(SAVE_BACKOFF_MAX_MS, this.#intervalMs));
    this.#retryAt = now + retryInMs;
    const failures = this.#unlogged;
    const log = now - this.#loggedAt >= SAVE_FAILURE_LOG_EVERY_MS;
    if (log) {
      this.#loggedAt = now;
      this.#unlogged = 0;
    }
    return { log, failures, retryInMs };
  }

  /** A save went through; returns how many failed in a row before it (0: nothing to report). */
  succeeded(): number {
    const before = this.#consecutive;
    this.#consecutive = this.#unlogged = 0;
    this.#retryAt = 0;
    this.#loggedAt = Number.NEGATIVE_INFINITY;
    return before;
  }
}

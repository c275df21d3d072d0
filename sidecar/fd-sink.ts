// stdout as a sink, by write(2) on the descriptor rather than through process.stdout: for a pipe,
// process.stdout is a net.Socket, and loading net and the stream modules costs every pod about
// 2 MiB of RSS (docs/decisions.md, "The sidecar's memory at idle").
//
// A write must never stop the event loop (timers, signals and the stat poll run on while stdout is
// full), so a write that might block goes to libuv's thread pool, where a full pipe parks one pool
// thread in write(2); its callback is the acknowledgement that the kernel has every byte. But the
// hand-off to the pool (a futex wake, an eventfd write and an epoll wake-up a batch) cost more than
// the write: when stdout is a pipe, as container runtimes give it, the sink opens a second,
// non-blocking description of the same pipe and writes on this thread whatever fits, and only
// what would block goes to the pool (a third less CPU at 1,000 lines/s: docs/decisions.md,
// "Writes to a stdout pipe").
//
// The price of the pool: a process cannot exit while a write is parked (libuv joins its pool
// threads at exit), so a shutdown that finds stdout still blocked after the drain timeout has to
// end the process by force (command.ts). So that the checkpoint saved before then can hold exactly
// the bytes the pipe took, even in the middle of a line, a pool write to a pipe is at most
// PIPE_BUF bytes: such a write is atomic (all of it or nothing), so while it is parked the bytes
// taken are known to the byte (taken()); a longer parked write may have put any part of itself in
// the pipe (docs/decisions.md, "A checkpoint at the byte the pipe took").
import { SinkClosedError, type Batch, type Sink } from "./sink.ts";

const fs = process.getBuiltinModule("node:fs");

/** Waits after EAGAIN (a descriptor someone made non-blocking): doubling from 1 ms, at most 50 ms. */
const RETRY_FIRST_MS = 1;
const RETRY_MAX_MS = 50;
/** POSIX's (and Linux's) bound for an atomic pipe write. */
const PIPE_BUF = 4096;

export class FdSink implements Sink {
  readonly #fd: number;
  /** A non-blocking description of the same pipe, or undefined (see nonBlockingTwin). */
  readonly #twin: number | undefined;
  #closed: SinkClosedError | undefined;
  /** The previous batch's write: batches from several followers go out whole and in order. */
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;
  /** The batch being written, and how many of its bytes the kernel has taken so far. */
  #current: Batch | undefined;
  #taken = 0;
  #halted = false;

  constructor(fd: number) {
    this.#fd = fd;
    this.#twin = nonBlockingTwin(fd);
  }

  /** Batches given and not yet written in full (one of them may be parked in a pool thread). */
  get pending(): number {
    return this.#pending;
  }

  /** Whether writes that fit in the pipe go out on this thread (stdout is a pipe we could reopen). */
  get writesInline(): boolean {
    return this.#twin !== undefined;
  }

  /**
   * Bytes of `batch` the kernel has taken while it is being written: exact for a pipe we write
   * inline (a parked pool write is atomic), a lower bound elsewhere; 0 for a batch not begun.
   */
  taken(batch: Batch): number {
    return batch === this.#current ? this.#taken : 0;
  }

  /** Issue no more writes (a parked one cannot be called back): what was taken stays put while the shutdown checkpoints it. */
  halt(): void {
    this.#halted = true;
  }

  write(batch: Batch): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    this.#pending++;
    // Serialized: a batch starts when the one before has been written in full.
    const written = this.#tail.then(() => this.#writeAll(batch));
    const settle = (): void => void this.#pending--;
    written.then(settle, settle);
    // The chain itself never rejects; a failure reaches the batches queued behind it through #closed.
    this.#tail = written.catch(() => undefined);
    return written;
  }

  #writeAll(batch: Batch): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    const data = batch.data;
    this.#current = batch;
    this.#taken = 0;
    return new Promise((resolve, reject) => {
      let at = 0;
      let retryMs = RETRY_FIRST_MS;
      const fail = (err: NodeJS.ErrnoException): void => {
        this.#closed ??= closedError(err);
        reject(this.#closed);
      };
      const step = (): void => {
        this.#taken = at;
        if (this.#halted) return; // never settles: the process ends without it
        // What fits in the pipe now goes out here; the pool write below waits for room for the
        // rest, and as it is issued only after every inline write returned, the order holds.
        if (this.#twin !== undefined) {
          try {
            while (at < data.length) at += fs.writeSync(this.#twin, data, at, data.length - at);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return fail(e as NodeJS.ErrnoException);
          }
        }
        this.#taken = at;
        if (at >= data.length) return resolve();
        const length = this.#twin === undefined ? data.length - at : Math.min(data.length - at, PIPE_BUF);
        fs.write(this.#fd, data, at, length, null, (err, n) => {
          if (err?.code === "EAGAIN") {
            setTimeout(step, retryMs);
            retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
            return;
          }
          if (err) return fail(err);
          at += n;
          retryMs = RETRY_FIRST_MS;
          step();
        });
      };
      step();
    });
  }
}

/**
 * For a pipe (a FIFO, named or not), a second description of it opened through /proc with
 * O_NONBLOCK: its own file status flags, so fd `fd` stays blocking for the pool, and whoever else
 * shares `fd`'s description is not surprised by EAGAIN. Only for a pipe: a regular file opened
 * again would get an offset of its own and lose O_APPEND. Where it cannot be had (no /proc, a
 * socket, a pipe owned by another user, no reader yet), every write goes through the pool.
 */
function nonBlockingTwin(fd: number): number | undefined {
  try {
    if (!fs.fstatSync(fd).isFIFO()) return undefined;
    return fs.openSync(`/proc/self/fd/${fd}`, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch {
    return undefined;
  }
}

function closedError(e: NodeJS.ErrnoException): SinkClosedError {
  return new SinkClosedError(`stdout is closed (${e.code ?? e.message}): its reader went away`);
}

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
// end the process by force (command.ts).
import { SinkClosedError, type Batch, type Sink } from "./sink.ts";

const fs = process.getBuiltinModule("node:fs");

/** Waits after EAGAIN (a descriptor someone made non-blocking): doubling from 1 ms, at most 50 ms. */
const RETRY_FIRST_MS = 1;
const RETRY_MAX_MS = 50;

export class FdSink implements Sink {
  readonly #fd: number;
  /** A non-blocking description of the same pipe, or undefined (see nonBlockingTwin). */
  readonly #twin: number | undefined;
  #closed: SinkClosedError | undefined;
  /** The previous batch's write: batches from several followers go out whole and in order. */
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

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

  write(batch: Batch): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    this.#pending++;
    // Serialized: a batch starts when the one before has been written in full.
    const written = this.#tail.then(() => this.#writeAll(batch.data));
    const settle = (): void => void this.#pending--;
    written.then(settle, settle);
    // The chain itself never rejects; a failure reaches the batches queued behind it through #closed.
    this.#tail = written.catch(() => undefined);
    return written;
  }

  #writeAll(data: Buffer): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      let at = 0;
      let retryMs = RETRY_FIRST_MS;
      const fail = (err: NodeJS.ErrnoException): void => {
        this.#closed ??= closedError(err);
        reject(this.#closed);
      };
      const step = (): void => {
        // What fits in the pipe now goes out here; the pool write below waits for room for the
        // rest, and as it is issued only after every inline write returned, the order holds.
        if (this.#twin !== undefined) {
          try {
            while (at < data.length) at += fs.writeSync(this.#twin, data, at, data.length - at);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== "EAGAIN") return fail(e as NodeJS.ErrnoException);
          }
        }
        if (at >= data.length) return resolve();
        fs.write(this.#fd, data, at, data.length - at, null, (err, n) => {
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

// stdout as a sink, by write(2) on the descriptor in libuv's thread pool rather than through
// process.stdout: for a pipe, process.stdout is a net.Socket, and loading net and the stream
// modules costs every pod about 2 MiB of RSS (docs/decisions.md, "The sidecar's memory at idle").
// A full pipe parks one pool thread in write(2) while timers, signals and the stat poll run on; the
// write's callback is the acknowledgement that the kernel has every byte. The price: a process
// cannot exit while a write is parked (libuv joins its pool threads at exit), so a shutdown that
// finds stdout still blocked after the drain timeout has to end the process by force (command.ts).
import { SinkClosedError, type Batch, type Sink } from "./sink.ts";

const fs = process.getBuiltinModule("node:fs");

/** Waits after EAGAIN (a descriptor someone made non-blocking): doubling from 1 ms, at most 50 ms. */
const RETRY_FIRST_MS = 1;
const RETRY_MAX_MS = 50;

export class FdSink implements Sink {
  readonly #fd: number;
  #closed: SinkClosedError | undefined;
  /** The previous batch's write: batches from several followers go out whole and in order. */
  #tail: Promise<void> = Promise.resolve();
  #pending = 0;

  constructor(fd: number) {
    this.#fd = fd;
  }

  /** Batches given and not yet written in full (one of them may be parked in a pool thread). */
  get pending(): number {
    return this.#pending;
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
      const step = (): void => {
        if (at >= data.length) return resolve();
        fs.write(this.#fd, data, at, data.length - at, null, (err, n) => {
          if (err?.code === "EAGAIN") {
            setTimeout(step, retryMs);
            retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
            return;
          }
          if (err) {
            this.#closed ??= closedError(err);
            return reject(this.#closed);
          }
          at += n;
          retryMs = RETRY_FIRST_MS;
          step();
        });
      };
      step();
    });
  }
}

function closedError(e: NodeJS.ErrnoException): SinkClosedError {
  return new SinkClosedError(`stdout is closed (${e.code ?? e.message}): its reader went away`);
}

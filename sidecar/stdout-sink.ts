// stdout as a sink, through process.stdout: for a pipe that is a non-blocking libuv stream, so
// a full pipe only parks the write (timers, signals and the stat poll keep running, and exit is
// never held up), and the write callback is the acknowledgement that the kernel has the bytes.
// (fs.write on fd 1 would park a thread-pool thread in a blocking write(2), which also blocks exit.)
import { SinkClosedError, type Batch, type Sink } from "./sink.ts";

export class StreamSink implements Sink {
  readonly #stream: NodeJS.WritableStream;
  #closed: SinkClosedError | undefined;

  constructor(stream: NodeJS.WritableStream) {
    this.#stream = stream;
    // Without a listener an EPIPE would be thrown as an uncaught error; the write callback reports it.
    stream.on("error", (e: NodeJS.ErrnoException) => {
      this.#closed ??= closedError(e);
    });
  }

  write(batch: Batch): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#stream.write(batch.data, (err) => {
        if (!err) return resolve();
        this.#closed ??= closedError(err as NodeJS.ErrnoException);
        reject(this.#closed);
      });
    });
  }
}

function closedError(e: NodeJS.ErrnoException): SinkClosedError {
  return new SinkClosedError(`stdout is closed (${e.code ?? e.message}): its reader went away`);
}

// The few file operations the sidecar needs, as promises over node's fs API. Not
// node:fs/promises, and no named import from "node:fs": the first loads readline and the REPL
// history with it, and node:fs's ES module facade evaluates fs.promises (and the fs streams) when
// it is imported. Together about 1 MiB of RSS in every pod (docs/decisions.md). process.
// getBuiltinModule hands out the plain CommonJS object, which loads nothing more.
//
// Opens, reads, stats and directory listings run on this thread (settledNow): on a local file
// each takes microseconds, and through libuv's thread pool it also cost a futex wake, an eventfd
// write and an epoll wake-up, more than the call itself. An idle sidecar's stat poll made 2,792
// futex calls in 25 s that way and 161 this way, for a third less idle CPU (docs/decisions.md).
// Writes, fsync, renames and checkpoint reads stay in the pool: an fsync can take milliseconds.
import type { BigIntStats, Stats } from "node:fs";

const fs = process.getBuiltinModule("node:fs");

function closedError(): NodeJS.ErrnoException {
  return Object.assign(new Error("file is closed"), { code: "EBADF" });
}

/** `run()`'s result or error as a settled promise, so callers treat both kinds of operation alike. */
function settledNow<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (e) {
    return Promise.reject(e as Error);
  }
}

function settle<T>(resolve: (v: T) => void, reject: (e: Error) => void): (err: NodeJS.ErrnoException | null, value: T) => void {
  return (err, value) => (err ? reject(err) : resolve(value));
}

/**
 * An open file descriptor, with the part of FileHandle's interface the sidecar uses and its
 * safety: close() waits for operations in flight (writes and fsync; reads and stats finish before
 * they return) and is idempotent, and an operation after close() fails with EBADF, so a
 * descriptor number reused by a later open is never touched.
 */
export class OpenFile {
  readonly #fd: number;
  #inFlight = 0;
  #closing: Promise<void> | undefined;
  #idle: (() => void) | undefined;

  constructor(fd: number) {
    this.#fd = fd;
  }

  #op<T>(run: (fd: number, done: (err: NodeJS.ErrnoException | null, value: T) => void) => void): Promise<T> {
    if (this.#closing) return Promise.reject(closedError());
    this.#inFlight++;
    return new Promise<T>((resolve, reject) => {
      run(this.#fd, (err, value) => {
        if (--this.#inFlight === 0) this.#idle?.();
        settle(resolve, reject)(err, value);
      });
    });
  }

  #now<T>(run: (fd: number) => T): Promise<T> {
    if (this.#closing) return Promise.reject(closedError());
    return settledNow(() => run(this.#fd));
  }

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.#now((fd) => ({ bytesRead: fs.readSync(fd, buffer, offset, length, position) }));
  }

  stat(): Promise<Stats>;
  stat(options: { bigint: true }): Promise<BigIntStats>;
  stat(options?: { bigint: true }): Promise<Stats | BigIntStats> {
    return this.#now((fd) => (options?.bigint ? fs.fstatSync(fd, { bigint: true }) : fs.fstatSync(fd)));
  }

  /** Writes all of `data` at the current position. */
  async writeFile(data: string): Promise<void> {
    const bytes = Buffer.from(data, "utf8");
    for (let at = 0; at < bytes.length; ) {
      at += await this.#op<number>((fd, done) => fs.write(fd, bytes, at, bytes.length - at, null, (err, n) => done(err, n)));
    }
  }

  sync(): Promise<void> {
    return this.#op<void>((fd, done) => fs.fsync(fd, (err) => done(err, undefined)));
  }

  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve, reject) => {
      const closeNow = (): void => fs.close(this.#fd, (err) => (err ? reject(err) : resolve()));
      if (this.#inFlight === 0) closeNow();
      else this.#idle = closeNow;
    });
    return this.#closing;
  }
}

export function open(path: string, flags: "r" | "w" = "r"): Promise<OpenFile> {
  return settledNow(() => new OpenFile(fs.openSync(path, flags, 0o666)));
}

export function stat(path: string, options: { bigint: true }): Promise<BigIntStats> {
  return settledNow(() => fs.statSync(path, options));
}

export function readdir(path: string): Promise<string[]> {
  return settledNow(() => fs.readdirSync(path));
}

export function readFile(path: string): Promise<string> {
  return new Promise((resolve, reject) => fs.readFile(path, "utf8", settle(resolve, reject)));
}

export function mkdirp(path: string): Promise<void> {
  return new Promise((resolve, reject) => fs.mkdir(path, { recursive: true }, (err) => (err ? reject(err) : resolve())));
}

export function rename(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => fs.rename(from, to, (err) => (err ? reject(err) : resolve())));
}

/** Removes a file; one that is already gone is fine. */
export function removeFile(path: string): Promise<void> {
  return new Promise((resolve, reject) => fs.unlink(path, (err) => (err && err.code !== "ENOENT" ? reject(err) : resolve())));
}

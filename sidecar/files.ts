// The few file operations the sidecar needs, as promises over node's callback fs API. Not
// node:fs/promises, and no named import from "node:fs": the first loads readline and the REPL
// history with it, and node:fs's ES module facade evaluates fs.promises (and the fs streams) when
// it is imported. Together about 1 MiB of RSS in every pod (docs/decisions.md). process.
// getBuiltinModule hands out the plain CommonJS object, which loads nothing more.
import type { BigIntStats, Stats } from "node:fs";

const fs = process.getBuiltinModule("node:fs");

function closedError(): NodeJS.ErrnoException {
  return Object.assign(new Error("file is closed"), { code: "EBADF" });
}

function settle<T>(resolve: (v: T) => void, reject: (e: Error) => void): (err: NodeJS.ErrnoException | null, value: T) => void {
  return (err, value) => (err ? reject(err) : resolve(value));
}

/**
 * An open file descriptor, with the part of FileHandle's interface the sidecar uses and its
 * safety: close() waits for operations in flight and is idempotent, and an operation after
 * close() fails with EBADF, so a descriptor number reused by a later open is never touched.
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

  read(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.#op<number>((fd, done) => fs.read(fd, buffer, offset, length, position, (err, n) => done(err, n))).then((bytesRead) => ({ bytesRead }));
  }

  stat(): Promise<Stats>;
  stat(options: { bigint: true }): Promise<BigIntStats>;
  stat(options?: { bigint: true }): Promise<Stats | BigIntStats> {
    if (options?.bigint) return this.#op<BigIntStats>((fd, done) => fs.fstat(fd, { bigint: true }, done));
    return this.#op<Stats>((fd, done) => fs.fstat(fd, done));
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
  return new Promise((resolve, reject) => fs.open(path, flags, 0o666, (err, fd) => (err ? reject(err) : resolve(new OpenFile(fd)))));
}

export function stat(path: string, options: { bigint: true }): Promise<BigIntStats> {
  return new Promise((resolve, reject) => fs.stat(path, options, settle(resolve, reject)));
}

export function readdir(path: string): Promise<string[]> {
  return new Promise((resolve, reject) => fs.readdir(path, settle(resolve, reject)));
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

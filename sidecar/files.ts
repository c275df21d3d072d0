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
import { isPseudoFile, refusalFor, type Refusal } from "./followable.ts";

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

  /**
   * Runs `use` with the descriptor number at once (it must not keep the number: a later open may
   * reuse it), for what needs the descriptor itself, as a child process given it (reclaim.ts).
   * Throws EBADF once close() was called.
   */
  lendFd<T>(use: (fd: number) => T): T {
    if (this.#closing) throw closedError();
    return use(this.#fd);
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

/**
 * Reads open non-blocking: opening a FIFO without a writer (or some devices) would otherwise wait
 * on this thread, and with it every followed file. O_NOCTTY: a tty must not become the
 * controlling terminal of a sidecar that runs as PID 1. Symlinks are followed.
 */
const READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOCTTY;

export function open(path: string, flags: "r" | "w" = "r"): Promise<OpenFile> {
  return settledNow(() => new OpenFile(fs.openSync(path, flags === "r" ? READ_FLAGS : flags, 0o666)));
}

/** An open regular file and its fstat, or why the path (which exists) cannot be followed. */
export type Followable = { readonly fh: OpenFile; readonly st: BigIntStats } | { readonly refused: Refusal };

/**
 * Opens `path` for following, or says why not; errors (ENOENT, EACCES, ...) are thrown as open's.
 * The stat before the open keeps us from opening a FIFO at all (an open by a reader releases a
 * writer waiting in its own open, which would then meet EPIPE when we close); the type that
 * counts is the opened descriptor's, since the path may change between the two, and the
 * non-blocking open never waits whatever it meets.
 */
export function openFollowable(path: string): Promise<Followable> {
  return settledNow((): Followable => {
    const before = refusalFor(fs.statSync(path));
    if (before) return { refused: before };
    const fd = fs.openSync(path, READ_FLAGS);
    try {
      const st = fs.fstatSync(fd, { bigint: true });
      const refused = refusalFor(st) ?? pseudoFile(fd, st.size);
      if (refused) {
        fs.closeSync(fd);
        return { refused };
      }
      return { fh: new OpenFile(fd), st };
    } catch (e) {
      fs.closeSync(fd);
      throw e;
    }
  });
}

/** "pseudo-file" when the open regular file `fd` is one (followable.ts). */
function pseudoFile(fd: number, size: bigint): Refusal | undefined {
  // statfs through the descriptor's /proc link names the filesystem of the file we opened, not of
  // whatever the path holds by now; without /proc the size test below still applies.
  let fsType: number | undefined;
  try {
    fsType = fs.statfsSync(`/proc/self/fd/${fd}`).type;
  } catch {
    fsType = undefined;
  }
  if (isPseudoFile(fsType, size, 0, size)) return "pseudo-file";
  if (size > 0n) return undefined;
  // An empty file on a filesystem not known as pseudo: one byte's read tells an empty log file
  // from a pseudo-file that reports no size.
  const bytes = fs.readSync(fd, Buffer.alloc(1), 0, 1, 0);
  const sizeAfter = bytes > 0 ? fs.fstatSync(fd, { bigint: true }).size : size;
  return isPseudoFile(fsType, size, bytes, sizeAfter) ? "pseudo-file" : undefined;
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

export function rename(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => fs.rename(from, to, (err) => (err ? reject(err) : resolve())));
}

/** Removes a file; one that is already gone is fine. */
export function removeFile(path: string): Promise<void> {
  return new Promise((resolve, reject) => fs.unlink(path, (err) => (err && err.code !== "ENOENT" ? reject(err) : resolve())));
}

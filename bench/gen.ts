// Deterministic, log-like test data: numbered lines of varying length (about 128 bytes on
// average, so 256 MiB is about two million lines), with an occasional Java stack trace.
import { openSync, writeSync, closeSync } from "node:fs";

const LEVELS = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "ERROR"];
const WORDS = ["request", "handled", "cache", "miss", "user", "order", "item", "retry", "db", "query", "ok", "latency"];
const TRACE = [
  'Exception in thread "worker-3" java.lang.IllegalStateException: order not found',
  "\tat com.example.shop.Orders.find(Orders.java:42)",
  "\tat com.example.shop.Api.handle(Api.java:17)",
  "Caused by: java.sql.SQLException: timeout",
  "\t... 12 more",
].join("\n");

/** A small xorshift generator: the same data in every run, cheap to produce. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/** Lines numbered from `first`, until about `bytes` bytes; returns the buffer and the next number. */
export function makeLinesFrom(bytes: number, seed: number, first: number): { data: Buffer; next: number } {
  const rand = rng(seed + first);
  const parts: string[] = [];
  let size = 0;
  let n = first;
  while (size < bytes) {
    let line: string;
    if (n % 500 === 499) line = TRACE;
    else {
      const words: string[] = [];
      const count = 8 + Math.floor(rand() * 10);
      for (let i = 0; i < count; i++) words.push(WORDS[Math.floor(rand() * WORDS.length)]!);
      const ms = String(n % 1000).padStart(3, "0");
      line = `2026-01-01T00:00:00.${ms}Z ${LEVELS[n % LEVELS.length]} [worker-${n % 8}] #${n} ${words.join(" ")}`;
    }
    parts.push(line);
    size += Buffer.byteLength(line) + 1;
    n++;
  }
  return { data: Buffer.from(parts.join("\n") + "\n"), next: n };
}

export function makeLines(bytes: number, seed: number): Buffer {
  return makeLinesFrom(bytes, seed, 0).data;
}

/** Writes about `bytes` bytes of lines to `path` in 8 MiB blocks; returns the exact size and line count. */
export function writeLinesFile(path: string, bytes: number): { bytes: number; lines: number } {
  const fd = openSync(path, "w");
  let written = 0;
  let next = 0;
  try {
    while (written < bytes) {
      const block = makeLinesFrom(Math.min(8 * 1024 * 1024, bytes - written), 7, next);
      next = block.next;
      writeSync(fd, block.data);
      written += block.data.length;
    }
  } finally {
    closeSync(fd);
  }
  // Each trace (one numbered entry) holds 5 lines.
  const traces = Math.floor(next / 500);
  return { bytes: written, lines: next + traces * 4 };
}

// The sidecar's own diagnostics: JSON lines on stderr, so stdout carries only log data and a
// node-level collector can tell the two apart without parsing prose.
// Not `import { writeSync } from "node:fs"`: that facade loads fs.promises and the fs streams (see files.ts).
const { writeSync } = process.getBuiltinModule("node:fs");

export type Level = "debug" | "info" | "warn" | "error";

export type Fields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Synchronous on purpose: a diagnostic must not wait behind a blocked stdout, and must not be lost on exit. */
export function log(level: Level, msg: string, fields: Fields = {}): void {
  const line = JSON.stringify({ time: isoTime(Date.now()), level, msg, ...fields }) + "\n";
  try {
    writeSync(2, line);
  } catch {
    // stderr gone: nothing better to do than keep tailing.
  }
}

const pad = (n: number, width = 2): string => String(n).padStart(width, "0");

/**
 * `new Date(ms).toISOString()`, for years 1000 to 9999, without calling it: the first
 * toISOString in a process costs about 1 MiB of RSS (docs/decisions.md), getUTC* next to nothing.
 */
export function isoTime(ms: number): string {
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.${pad(d.getUTCMilliseconds(), 3)}Z`;
}

// The sidecar's own diagnostics: JSON lines on stderr, so stdout carries only log data and a
// node-level collector can tell the two apart without parsing prose.
import { writeSync } from "node:fs";

export type Level = "debug" | "info" | "warn" | "error";

export type Fields = Readonly<Record<string, string | number | boolean | null | undefined>>;

/** Synchronous on purpose: a diagnostic must not wait behind a blocked stdout, and must not be lost on exit. */
export function log(level: Level, msg: string, fields: Fields = {}): void {
  const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }) + "\n";
  try {
    writeSync(2, line);
  } catch {
    // stderr gone: nothing better to do than keep tailing.
  }
}

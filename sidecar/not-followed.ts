// Why a followed path is not being read right now, and when to say so. The path is looked at
// again at every poll, but a diagnostic every poll would flood stderr (16k warnings in 3 s for
// /proc/self/environ): one line when the reason starts or changes, and, for an error, again every
// REPEAT_MS while it lasts, so a file nobody can read stays visible in the logs as in the gauge.
import { describeRefusal, type Refusal } from "./followable.ts";
import type { Level } from "./log.ts";

/** How often an error that lasts is logged again. */
export const REPEAT_MS = 60_000;

/**
 * "missing": nothing at the path yet; a Refusal: something that is no regular file;
 * "followed-elsewhere": the file is read under another followed path; otherwise the errno code
 * open or stat failed with (EACCES, ELOOP, ENOTDIR, ...).
 */
export type NotFollowedReason = "missing" | "followed-elsewhere" | Refusal | (string & {});

export interface Notice {
  readonly level: Level;
  readonly msg: string;
}

const REFUSALS: ReadonlySet<string> = new Set<Refusal>(["directory", "fifo", "socket", "device", "pseudo-file", "not-regular"]);

export function notice(reason: NotFollowedReason): Notice {
  if (reason === "missing") return { level: "info", msg: "file does not exist yet: waiting for it" };
  if (reason === "followed-elsewhere") return { level: "info", msg: "the file at this path is already followed under another path: not reading it twice" };
  if (REFUSALS.has(reason)) return { level: "error", msg: `cannot follow: ${describeRefusal(reason as Refusal)}; waiting for a regular file there` };
  return { level: "error", msg: `cannot open file (${reason}): retrying` };
}

/** Whether a reason is logged again while it lasts (errors), or once (the normal states). */
export function repeats(reason: NotFollowedReason): boolean {
  return notice(reason).level === "error";
}

export interface Reported {
  readonly reason: NotFollowedReason;
  /** When it was first seen (ms). */
  readonly since: number;
  /** When it was last logged (ms). */
  readonly loggedAt: number;
}

/** The state after seeing `reason` at `now`, and whether to log it now. */
export function observe(prev: Reported | undefined, reason: NotFollowedReason, now: number): { state: Reported; log: boolean } {
  if (!prev || prev.reason !== reason) return { state: { reason, since: now, loggedAt: now }, log: true };
  if (repeats(reason) && now - prev.loggedAt >= REPEAT_MS) return { state: { ...prev, loggedAt: now }, log: true };
  return { state: prev, log: false };
}

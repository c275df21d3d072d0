// What a sidecar's `kubectl logs` holds: the file's lines, and the sidecar's own JSON diagnostics on
// stderr, which the log API merges into the same stream. Pure helpers for the real-node tests.
import assert from "node:assert/strict";

/** A line of the sidecar's own stderr (`{"time":…,"level":…,"msg":…}`), or undefined. */
export function diagnostic(line: string): { level: string; msg: string; [k: string]: unknown } | undefined {
  if (!line.startsWith('{"time":')) return undefined;
  try {
    const parsed = JSON.parse(line) as { level?: unknown; msg?: unknown };
    return typeof parsed.level === "string" && typeof parsed.msg === "string" ? (parsed as { level: string; msg: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** The file's lines of a sidecar's log: everything but its diagnostics. */
export function fileLines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "" && diagnostic(l) === undefined);
}

/** The sidecar's diagnostics in a log. */
export function diagnostics(text: string): { level: string; msg: string; [k: string]: unknown }[] {
  return text.split("\n").flatMap((l) => diagnostic(l) ?? []);
}

/** The sequence numbers of lines matching `pattern` (its first group); a line that does not match fails. */
export function numbered(lines: readonly string[], pattern: RegExp): number[] {
  return lines.map((l) => {
    const m = pattern.exec(l);
    assert.ok(m?.[1] !== undefined, `line ${JSON.stringify(l)} does not match ${pattern}`);
    return Number(m[1]);
  });
}

export interface SequenceReport {
  /** Numbers of 0..expected-1 never seen. */
  readonly missing: number;
  /** Lines seen more than once (each extra copy counts). */
  readonly duplicates: number;
  /** Places where a number is not the one after its predecessor (a gap, a repeat or a step back). */
  readonly breaks: number;
  /** Numbers outside 0..expected-1. */
  readonly unexpected: number;
  /** The first few breaks, as "a->b", for a short diagnostic. */
  readonly firstBreaks: readonly string[];
}

/** How `numbers` differs from 0, 1, …, expected-1 exactly once each, in order (pure). */
export function sequenceReport(numbers: readonly number[], expected: number): SequenceReport {
  const seen = new Uint32Array(expected);
  let unexpected = 0;
  for (const n of numbers) {
    if (Number.isInteger(n) && n >= 0 && n < expected) seen[n]! += 1;
    else unexpected += 1;
  }
  let missing = 0;
  let duplicates = 0;
  for (const count of seen) {
    if (count === 0) missing += 1;
    else duplicates += count - 1;
  }
  const firstBreaks: string[] = [];
  let breaks = 0;
  numbers.forEach((n, i) => {
    const before = i === 0 ? -1 : numbers[i - 1]!;
    if (n !== before + 1) {
      breaks += 1;
      if (firstBreaks.length < 5) firstBreaks.push(`${before}->${n}`);
    }
  });
  return { missing, duplicates, breaks, unexpected, firstBreaks };
}

// What every check returns: one line of the checklist. A check is a pure function from the objects
// it was given to results; the shell (cluster.ts) fetches, command.ts renders.

/** ok ✓, fail ✗ (exit 1, with a fix), warn ‼ (may be a problem, with a fix), skip – (could not be judged, with why). */
export type CheckStatus = "ok" | "fail" | "warn" | "skip";

export interface CheckResult {
  /** The heading it is listed under: "installation", "namespace shop", "pod shop/web-1". */
  readonly group: string;
  /** Stable id for --output json and tests: "webhook-deployment". */
  readonly id: string;
  readonly status: CheckStatus;
  readonly message: string;
  /** What to do: set on every fail and warn. */
  readonly fix?: string;
}

export const ok = (group: string, id: string, message: string): CheckResult => ({ group, id, status: "ok", message });
export const fail = (group: string, id: string, message: string, fix: string): CheckResult => ({ group, id, status: "fail", message, fix });
export const warn = (group: string, id: string, message: string, fix: string): CheckResult => ({ group, id, status: "warn", message, fix });
export const skip = (group: string, id: string, message: string): CheckResult => ({ group, id, status: "skip", message });

export interface Summary {
  readonly ok: number;
  readonly fail: number;
  readonly warn: number;
  readonly skip: number;
}

export function summarize(results: readonly CheckResult[]): Summary {
  const count = (s: CheckStatus): number => results.filter((r) => r.status === s).length;
  return { ok: count("ok"), fail: count("fail"), warn: count("warn"), skip: count("skip") };
}

/** 1 when anything failed; warnings and skips alone leave it 0. */
export const exitCodeOf = (results: readonly CheckResult[]): number => (results.some((r) => r.status === "fail") ? 1 : 0);

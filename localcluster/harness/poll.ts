// Bounded waiting: every wait in the harness has a deadline and says what it was waiting for.

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Checked each round: a reason to stop waiting early (e.g. the server process died). */
  readonly abortIf?: () => string | undefined;
}

/**
 * Calls `attempt` until it returns a value other than undefined, or throws once the deadline passes,
 * naming `what` and the last error seen.
 */
export async function pollUntil<T>(what: string, attempt: () => Promise<T | undefined>, options: PollOptions): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const interval = options.intervalMs ?? 250;
  let lastError = "";
  for (let round = 0; ; round++) {
    const abort = options.abortIf?.();
    if (abort) throw new Error(`gave up waiting for ${what}: ${abort}`);
    try {
      const value = await attempt();
      if (value !== undefined) return value;
      lastError = "";
    } catch (e) {
      lastError = e instanceof Error ? e.message : String(e);
    }
    if (Date.now() >= deadline) {
      const detail = lastError ? `; last error: ${lastError}` : "";
      throw new Error(`timed out after ${options.timeoutMs} ms (${round + 1} tries) waiting for ${what}${detail}`);
    }
    await sleep(Math.min(interval, Math.max(0, deadline - Date.now())));
  }
}

// The HTTP shell shared by the network sinks: one POST with a timeout, the backoff between
// attempts, and failure messages on stderr that do not repeat once per retry forever.

import type { HttpAnswer } from "./http-client.ts";

export type { HttpAnswer };

export interface RetryPolicy {
  readonly initialMs: number;
  readonly maxMs: number;
  /** Per-request timeout; a backend that accepts but never answers is treated as down. */
  readonly requestTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { initialMs: 250, maxMs: 30_000, requestTimeoutMs: 30_000 };

/**
 * Exponential backoff with "equal jitter": half the delay fixed, half random, so many sidecars
 * that lost the same backend do not come back in lockstep. attempt 0 → 125..250 ms.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: number): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

export type HttpVerdict = "ok" | "retry" | "denied" | "split";

/** 401/403: the backend refuses these credentials (or this user the index). */
export function isDenied(status: number): boolean {
  return status === 401 || status === 403;
}

/**
 * What to do with a whole-request answer. 5xx, 408, 429 are transient: retry. 401/403 (denied)
 * and 404 mean wrong credentials or a wrong endpoint: also retried, because dropping everything
 * until someone fixes it would lose it all while the file can still hold it; "denied" is told
 * apart so it is reported as an error and counted. Other 4xx reject the content: split the batch
 * to isolate the bad lines (a single line is then dropped and counted).
 */
export function httpVerdict(status: number): HttpVerdict {
  if (status >= 200 && status < 300) return "ok";
  if (isDenied(status)) return "denied";
  if (status >= 400 && status < 500 && ![404, 408, 429].includes(status)) return "split";
  return "retry";
}

/** "HTTP 401" or "HTTP 400: <the start of the body>", for messages. */
export function httpReason(answer: Pick<HttpAnswer, "status" | "body">): string {
  const body = answer.body.slice(0, 300).trim();
  return body === "" ? `HTTP ${answer.status}` : `HTTP ${answer.status}: ${body}`;
}

/**
 * A failure that reads well in one stderr line: the error's code where its message does not hold it
 * (TLS errors: "SELF_SIGNED_CERT_IN_CHAIN self-signed certificate in certificate chain").
 */
export function describeFailure(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.name === "TimeoutError") return "request timed out";
  const code = (error as NodeJS.ErrnoException).code;
  return code !== undefined && !error.message.includes(code) ? `${code} ${error.message}` : error.message;
}

/**
 * Errors of the TLS handshake or of the certificates (the backend's not trusted by the CA, ours
 * refused): a configuration to fix, reported as an error apart from outages.
 */
export function isTlsFailure(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== "string") return false;
  return /^(ERR_SSL_|ERR_TLS_|CERT_|UNABLE_TO_|SELF_SIGNED|DEPTH_ZERO_SELF_SIGNED|HOSTNAME_MISMATCH|ERR_OSSL_)/.test(code) || code === "EPROTO";
}

export type Emit = (level: "warn" | "error" | "info", msg: string, fields: Readonly<Record<string, unknown>>) => void;

export const stderrEmit: Emit = (level, msg, fields) => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
};

/**
 * The first failure is reported at once, later ones at most every `everyMs` with how many were
 * folded in, and recovery once: a backend down for an hour gives a few dozen lines, not thousands.
 * Each message has its own period, so a new kind of failure (the backend came up but refuses the
 * password) is reported at once: the rate limit must not hide what changed. The messages are a
 * handful of constants, so the output stays bounded.
 */
export class FailureReporter {
  readonly #emit: Emit;
  readonly #everyMs: number;
  readonly #now: () => number;
  #failures = 0;
  #unreported = 0;
  readonly #lastReport = new Map<string, number>();

  constructor(emit: Emit, everyMs = 30_000, now: () => number = Date.now) {
    this.#emit = emit;
    this.#everyMs = everyMs;
    this.#now = now;
  }

  failure(msg: string, fields: Readonly<Record<string, unknown>>, level: "warn" | "error" = "warn"): void {
    this.#failures++;
    this.#unreported++;
    const now = this.#now();
    if (now - (this.#lastReport.get(msg) ?? -Infinity) < this.#everyMs) return;
    this.#emit(level, msg, { ...fields, failures: this.#failures, since_last_report: this.#unreported });
    this.#unreported = 0;
    this.#lastReport.set(msg, now);
  }

  success(fields: Readonly<Record<string, unknown>>): void {
    if (this.#failures === 0) return;
    this.#emit("info", "backend accepts again", { ...fields, failures: this.#failures });
    this.#failures = 0;
    this.#unreported = 0;
    this.#lastReport.clear();
  }
}

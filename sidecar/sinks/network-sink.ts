// The shell around a protocol (Elasticsearch _bulk or Loki push): queues writes, batches them,
// keeps one request in flight (file order is backend order), retries forever with backoff, and
// resolves a write only when the backend acknowledged every line of it. While a request is in
// flight, new writes collect into the next batch, so batches grow with load and an idle sidecar
// sends each line at once: the batching time is the round trip, never a fixed delay.

import type { PodMetadata } from "../config.ts";
import { SinkClosedError, type Sink } from "../sink.ts";
import { CredentialProblem } from "./http-protocol.ts";
import { DEFAULT_RETRY, FailureReporter, backoffMs, describeFailure, isTlsFailure, stderrEmit, type Emit, type RetryPolicy } from "./http-retry.ts";
import { NanoClock, splitLines, splitRecords, type ForwardBatch, type LineSource, type LogLine } from "./records.ts";

/** What one attempt to send `lines` came to. */
export type SendOutcome =
  | { readonly kind: "done"; readonly dropped: number; readonly duplicates: number; readonly reason?: string; readonly status?: number }
  /**
   * Some lines were stored; `remaining` (a subset, in order) must be sent again. `denied`: the
   * backend refused the credentials (401/403) for some of them, reported apart from outages.
   */
  | { readonly kind: "partial"; readonly remaining: readonly LogLine[]; readonly dropped: number; readonly duplicates: number; readonly reason: string; readonly status: number; readonly denied?: boolean }
  /** `failure`: nothing could be sent: the credential or TLS files are unusable, or TLS with the backend failed. */
  | { readonly kind: "retry"; readonly reason: string; readonly status?: number; readonly denied?: boolean; readonly failure?: "credentials" | "tls" }
  /** The backend rejected the content of the request: send halves to isolate the bad lines. */
  | { readonly kind: "split"; readonly reason: string; readonly status: number };

export interface Protocol {
  readonly name: string;
  /** The request URL as messages show it: credentials redacted (url-credentials.ts). */
  readonly url: string;
  send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome>;
  /**
   * Before each attempt: reads what the request needs from files (credentials, TLS material);
   * throws CredentialProblem when they cannot be used, and then nothing is sent.
   */
  prepare?(): Promise<void>;
  /** Closes connections and watches, when the sink closes. */
  close?(): void;
}

export interface BatchLimits {
  readonly maxLines: number;
  readonly maxBytes: number;
}

export const DEFAULT_LIMITS: BatchLimits = { maxLines: 10_000, maxBytes: 1024 * 1024 };

export interface SinkStats {
  linesAcked: number;
  linesDropped: number;
  /** Lines the backend said it already had (Elasticsearch 409 on create): resends it absorbed. */
  duplicatesAbsorbed: number;
  /**
   * Lines sent again after an attempt whose fate is unknown (connection lost, timeout, 5xx): an
   * upper bound on the duplicates a backend without ids (Loki across restarts, VictoriaLogs) may hold.
   */
  linesResent: number;
  requests: number;
  failedRequests: number;
  /** Requests the backend answered 401/403 (wrong credentials or permissions), whole or for some _bulk items. */
  authFailures: number;
  /** Attempts not made because the credential or TLS files could not be read or used. */
  credentialErrors: number;
  /** Attempts that failed in TLS: the backend's certificate not trusted, or ours refused. */
  tlsFailures: number;
}


interface Pending {
  readonly source: LineSource;
  readonly lines: LogLine[];
  readonly resolve: () => void;
  readonly reject: (e: Error) => void;
}

export interface NetworkSinkOptions {
  readonly pod: PodMetadata;
  readonly retry?: RetryPolicy;
  readonly limits?: BatchLimits;
  readonly emit?: Emit;
  readonly random?: () => number;
  /** The tailer's --max-line-bytes: output lines longer than it are pieces of a split line (records.ts). */
  readonly maxLineBytes?: number;
}

/**
 * Not transient, but retried with the same backoff all the same: the lines stay in the file and
 * the checkpoint does not pass them, so a fixed password or role delivers every one of them.
 */
export const DENIED_MESSAGE =
  "backend refused the credentials (HTTP 401/403): check the credentials (the Secret's files, or user:password in the endpoint URL) and the user's permissions; nothing is acknowledged, the file keeps the lines, retrying with backoff (at once when the credential files change)";

export const CREDENTIALS_MESSAGE =
  "the credential or TLS files cannot be used: nothing is sent, the file keeps the lines; read again before every retry and at once when they change";

export const TLS_MESSAGE =
  "TLS with the backend failed: check the CA bundle (--ca-file) against the backend's certificate and the client certificate it expects; the file keeps the lines, retrying with backoff (at once when the files change)";

export class NetworkSink implements Sink {
  readonly stats: SinkStats = { linesAcked: 0, linesDropped: 0, duplicatesAbsorbed: 0, linesResent: 0, requests: 0, failedRequests: 0, authFailures: 0, credentialErrors: 0, tlsFailures: 0 };
  readonly #protocol: Protocol;
  readonly #pod: PodMetadata;
  readonly #retry: RetryPolicy;
  readonly #limits: BatchLimits;
  readonly #emit: Emit;
  readonly #random: () => number;
  readonly #maxLineBytes: number;
  readonly #reporter: FailureReporter;
  readonly #clock = new NanoClock();
  readonly #abort = new AbortController();
  readonly #queue: Pending[] = [];
  #pumping = false;
  #wake: (() => void) | undefined;

  constructor(protocol: Protocol, options: NetworkSinkOptions) {
    this.#protocol = protocol;
    this.#pod = options.pod;
    this.#retry = options.retry ?? DEFAULT_RETRY;
    this.#limits = options.limits ?? DEFAULT_LIMITS;
    this.#emit = options.emit ?? stderrEmit;
    this.#random = options.random ?? Math.random;
    this.#maxLineBytes = options.maxLineBytes ?? Infinity;
    this.#reporter = new FailureReporter(this.#emit);
  }

  /** Resolves once the backend acknowledged every line of `batch`; rejects with SinkClosedError after close(). */
  write(batch: ForwardBatch): Promise<void> {
    if (this.#abort.signal.aborted) return Promise.reject(new SinkClosedError("sink closed"));
    const source: LineSource = { file: batch.file, fileKey: batch.fileKey, pod: this.#pod };
    const lines = batch.offsets !== undefined ? splitRecords(batch.data, batch.offsets, this.#clock, batch.times) : splitLines(batch.data, batch.startOffset, this.#clock, batch.times, this.#maxLineBytes);
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ source, lines, resolve, reject });
      void this.#pump();
    });
  }

  /** Stops retrying: the write in flight and all queued ones reject, so no checkpoint passes them. */
  close(): void {
    if (!this.#abort.signal.aborted) this.#emit("info", "forwarding stopped", { sink: this.#protocol.name, url: this.#protocol.url, ...this.stats });
    this.#abort.abort();
    this.#protocol.close?.();
    for (const p of this.#queue.splice(0)) p.reject(new SinkClosedError("sink closed before the backend acknowledged"));
  }

  /** Ends the backoff in progress: something changed (the credential files) that may let the next attempt through. */
  retryNow(): void {
    this.#wake?.();
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0 && !this.#abort.signal.aborted) {
        const taken = this.#takeBatch();
        const first = taken[0]!;
        try {
          await this.#deliver(taken.flatMap((p) => p.lines), first.source);
          for (const p of taken) p.resolve();
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          for (const p of taken) p.reject(err);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /** Queued writes of the head's source, up to the batch limits (at least one write). */
  #takeBatch(): Pending[] {
    const head = this.#queue[0]!;
    const taken: Pending[] = [];
    let lines = 0;
    let bytes = 0;
    while (this.#queue.length > 0) {
      const p = this.#queue[0]!;
      if (p.source.file !== head.source.file || p.source.fileKey !== head.source.fileKey) break;
      const size = p.lines.reduce((n, l) => n + l.text.length + 64, 0);
      if (taken.length > 0 && (lines + p.lines.length > this.#limits.maxLines || bytes + size > this.#limits.maxBytes)) break;
      taken.push(this.#queue.shift()!);
      lines += p.lines.length;
      bytes += size;
    }
    return taken;
  }

  /** Sends `lines` in chunks within the limits, each until acknowledged. */
  async #deliver(lines: readonly LogLine[], source: LineSource): Promise<void> {
    const chunks: (readonly LogLine[])[] = [];
    let start = 0;
    let bytes = 0;
    for (let i = 0; i < lines.length; i++) {
      bytes += lines[i]!.text.length + 64;
      if (i + 1 - start >= this.#limits.maxLines || bytes >= this.#limits.maxBytes || i === lines.length - 1) {
        chunks.push(lines.slice(start, i + 1));
        start = i + 1;
        bytes = 0;
      }
    }
    while (chunks.length > 0) {
      const { outcome, remaining } = await this.#attemptUntilProgress(chunks[0]!, source);
      if (outcome.kind === "split" && remaining.length > 1) {
        const half = Math.ceil(remaining.length / 2);
        chunks.splice(0, 1, remaining.slice(0, half), remaining.slice(half));
      } else if (outcome.kind === "split") {
        chunks.shift();
        this.#drop(remaining.length, outcome.status, outcome.reason, source);
      } else {
        chunks.shift();
      }
    }
  }

  /** Retries one chunk until it is stored or must be split; `remaining`: the lines not yet stored. */
  async #attemptUntilProgress(chunk: readonly LogLine[], source: LineSource): Promise<{ outcome: SendOutcome; remaining: readonly LogLine[] }> {
    let remaining = chunk;
    for (let attempt = 0; ; attempt++) {
      if (this.#abort.signal.aborted) throw new SinkClosedError("sink closed before the backend acknowledged");
      if (attempt > 0) this.stats.linesResent += remaining.length;
      let outcome: SendOutcome;
      try {
        await this.#protocol.prepare?.();
        this.stats.requests++;
        outcome = await this.#protocol.send(remaining, source, this.#abort.signal, this.#retry.requestTimeoutMs);
      } catch (e) {
        if (this.#abort.signal.aborted) throw new SinkClosedError("sink closed before the backend acknowledged");
        outcome = e instanceof CredentialProblem
          ? { kind: "retry", reason: e.message, failure: "credentials" }
          : { kind: "retry", reason: describeFailure(e), ...(isTlsFailure(e) && { failure: "tls" as const }) };
      }
      const fields = { sink: this.#protocol.name, url: this.#protocol.url, file: source.file };
      if (outcome.kind === "done") {
        this.stats.linesAcked += remaining.length - outcome.dropped;
        this.stats.duplicatesAbsorbed += outcome.duplicates;
        if (outcome.dropped > 0) this.#drop(outcome.dropped, outcome.status ?? 0, outcome.reason ?? "rejected", source);
        this.#reporter.success(fields);
        return { outcome, remaining };
      }
      if (!(outcome.kind === "retry" && outcome.failure === "credentials")) this.stats.failedRequests++;
      if (outcome.kind === "split") return { outcome, remaining };
      if (outcome.kind === "partial") {
        this.stats.linesAcked += remaining.length - outcome.remaining.length - outcome.dropped;
        this.stats.duplicatesAbsorbed += outcome.duplicates;
        if (outcome.dropped > 0) this.#drop(outcome.dropped, outcome.status, outcome.reason, source);
        remaining = outcome.remaining;
      }
      const report = { ...fields, status: outcome.status, reason: outcome.reason, lines: remaining.length };
      if (outcome.kind === "retry" && outcome.failure === "credentials") {
        this.stats.credentialErrors++;
        this.#reporter.failure(CREDENTIALS_MESSAGE, report, "error");
      } else if (outcome.kind === "retry" && outcome.failure === "tls") {
        this.stats.tlsFailures++;
        this.#reporter.failure(TLS_MESSAGE, report, "error");
      } else if (outcome.denied === true) {
        this.stats.authFailures++;
        this.#reporter.failure(DENIED_MESSAGE, report, "error");
      } else {
        this.#reporter.failure("backend did not accept lines; retrying (the file holds them)", report);
      }
      await this.#sleep(backoffMs(attempt, this.#retry, this.#random()));
    }
  }

  /** The backoff: ends after `ms`, on close(), or on retryNow(). */
  #sleep(ms: number): Promise<void> {
    const signal = this.#abort.signal;
    return new Promise((resolve) => {
      if (signal.aborted) return resolve();
      const done = (): void => {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
      this.#wake = done;
    });
  }

  #drop(count: number, status: number, reason: string, source: LineSource): void {
    this.stats.linesDropped += count;
    this.#emit("error", "backend rejected lines; dropped", { sink: this.#protocol.name, file: source.file, lines: count, status, reason });
  }
}


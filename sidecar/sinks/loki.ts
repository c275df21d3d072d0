// Loki push (JSON) over HTTP. A retry resends the same body: Loki drops entries whose stream,
// timestamp and line it already has, so a resend within one sidecar run does not double lines there.

import { httpReason, httpVerdict, post } from "./http-retry.ts";
import { pushBody } from "./loki-encode.ts";
import type { Protocol, SendOutcome } from "./network-sink.ts";
import type { LineSource, LogLine } from "./records.ts";
import type { RequestTarget } from "../../settings/url-credentials.ts";

const HEADERS = { "Content-Type": "application/json" };

export class LokiProtocol implements Protocol {
  readonly name = "loki";
  readonly url: string;
  readonly #target: RequestTarget;
  readonly #headers: Readonly<Record<string, string>>;

  constructor(target: RequestTarget) {
    this.url = target.shown;
    this.#target = target;
    this.#headers = { ...HEADERS, ...target.headers };
  }

  async send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome> {
    const res = await post(this.#target.url, pushBody(lines, source), this.#headers, timeoutMs, signal);
    const verdict = httpVerdict(res.status);
    if (verdict === "ok") return { kind: "done", dropped: 0, duplicates: 0 };
    const reason = httpReason(res);
    if (verdict === "denied") return { kind: "retry", status: res.status, reason, denied: true };
    return verdict === "split" ? { kind: "split", status: res.status, reason } : { kind: "retry", status: res.status, reason };
  }
}

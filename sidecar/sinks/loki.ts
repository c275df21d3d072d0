// Loki push (JSON) over HTTP. A retry resends the same body: Loki drops entries whose stream,
// timestamp and line it already has, so a resend within one sidecar run does not double lines there.

import { httpVerdict, post } from "./http-retry.ts";
import { pushBody } from "./loki-encode.ts";
import type { Protocol, SendOutcome } from "./network-sink.ts";
import type { LineSource, LogLine } from "./records.ts";

const HEADERS = { "Content-Type": "application/json" };

export class LokiProtocol implements Protocol {
  readonly name = "loki";
  readonly url: string;

  constructor(url: string) {
    this.url = url;
  }

  async send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome> {
    const res = await post(this.url, pushBody(lines, source), HEADERS, timeoutMs, signal);
    const verdict = httpVerdict(res.status);
    if (verdict === "ok") return { kind: "done", dropped: 0, duplicates: 0 };
    const reason = `HTTP ${res.status}: ${res.body.slice(0, 300)}`;
    return verdict === "split" ? { kind: "split", status: res.status, reason } : { kind: "retry", status: res.status, reason };
  }
}

// OTLP/HTTP logs (protobuf) over HTTP: a 2xx acknowledges the request, less the records a
// partial success says were rejected, which are dropped and counted as the OTLP spec asks (a
// partial success must not be retried). Other answers are handled as for Loki push.

import { httpReason, httpVerdict, post } from "./http-retry.ts";
import type { Protocol, SendOutcome } from "./network-sink.ts";
import { exportLogsRequest, parseExportResponse } from "./otlp-encode.ts";
import type { LineSource, LogLine } from "./records.ts";
import type { RequestTarget } from "../../settings/url-credentials.ts";

const HEADERS = { "Content-Type": "application/x-protobuf" };

export class OtlpProtocol implements Protocol {
  readonly name = "otlp";
  readonly url: string;
  readonly #target: RequestTarget;
  readonly #headers: Readonly<Record<string, string>>;

  constructor(target: RequestTarget) {
    this.url = target.shown;
    this.#target = target;
    this.#headers = { ...HEADERS, ...target.headers };
  }

  async send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome> {
    const res = await post(this.#target.url, exportLogsRequest(lines, source), this.#headers, timeoutMs, signal);
    const verdict = httpVerdict(res.status);
    if (verdict === "ok") {
      const answer = parseExportResponse(res.bytes);
      // The backend took the request; resending because its answer is unreadable would store it twice.
      if (!answer.ok || answer.rejected === 0) return { kind: "done", dropped: 0, duplicates: 0 };
      const dropped = Math.min(answer.rejected, lines.length);
      return { kind: "done", dropped, duplicates: 0, status: res.status, reason: `partial success: ${answer.message || `${dropped} records rejected`}` };
    }
    const reason = httpReason(res);
    if (verdict === "denied") return { kind: "retry", status: res.status, reason, denied: true };
    return verdict === "split" ? { kind: "split", status: res.status, reason } : { kind: "retry", status: res.status, reason };
  }
}

// OTLP/HTTP logs (protobuf) over HTTP: a 2xx acknowledges the request, less the records a
// partial success says were rejected, which are dropped and counted as the OTLP spec asks (a
// partial success must not be retried). Other answers are handled as for Loki push.

import { httpVerdict } from "./http-retry.ts";
import { HttpProtocol, notAcknowledged, type ConnectionOptions } from "./http-protocol.ts";
import type { SendOutcome } from "./network-sink.ts";
import { exportLogsRequest, parseExportResponse } from "./otlp-encode.ts";
import type { LineSource, LogLine } from "./records.ts";
import type { RequestTarget } from "../../settings/url-credentials.ts";

export class OtlpProtocol extends HttpProtocol {
  readonly name = "otlp";

  constructor(target: RequestTarget, connection: ConnectionOptions = {}) {
    super(target, { "Content-Type": "application/x-protobuf" }, connection);
  }

  async send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome> {
    const res = await this.post(exportLogsRequest(lines, source), signal, timeoutMs);
    const verdict = httpVerdict(res.status);
    if (verdict !== "ok") return notAcknowledged(res, verdict);
    const answer = parseExportResponse(res.bytes);
    // The backend took the request; resending because its answer is unreadable would store it twice.
    if (!answer.ok || answer.rejected === 0) return { kind: "done", dropped: 0, duplicates: 0 };
    const dropped = Math.min(answer.rejected, lines.length);
    return { kind: "done", dropped, duplicates: 0, status: res.status, reason: `partial success: ${answer.message || `${dropped} records rejected`}` };
  }
}

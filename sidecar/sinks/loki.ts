// Loki push (JSON) over HTTP. A retry resends the same body: Loki drops entries whose stream,
// timestamp and line it already has, so a resend within one sidecar run does not double lines there.

import { httpVerdict } from "./http-retry.ts";
import { HttpProtocol, notAcknowledged, type ConnectionOptions } from "./http-protocol.ts";
import { pushBody } from "./loki-encode.ts";
import type { SendOutcome } from "./network-sink.ts";
import type { LineSource, LogLine } from "./records.ts";
import type { RequestTarget } from "../../settings/url-credentials.ts";

export class LokiProtocol extends HttpProtocol {
  readonly name = "loki";

  constructor(target: RequestTarget, connection: ConnectionOptions = {}) {
    super(target, { "Content-Type": "application/json" }, connection);
  }

  async send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome> {
    const res = await this.post(pushBody(lines, source), signal, timeoutMs);
    const verdict = httpVerdict(res.status);
    return verdict === "ok" ? { kind: "done", dropped: 0, duplicates: 0 } : notAcknowledged(res, verdict);
  }
}

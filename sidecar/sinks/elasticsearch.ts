// Elasticsearch/OpenSearch _bulk over HTTP: sends items, resends only the items that failed
// transiently, drops (and counts) items the backend rejects for their content.

import { VICTORIALOGS_HEADERS, bulkItem, parseBulkResponse } from "./elasticsearch-encode.ts";
import { httpVerdict, isDenied } from "./http-retry.ts";
import { HttpProtocol, notAcknowledged, type ConnectionOptions } from "./http-protocol.ts";
import type { SendOutcome } from "./network-sink.ts";
import type { LineSource, LogLine } from "./records.ts";
import type { RequestTarget } from "../../settings/url-credentials.ts";

const HEADERS = { "Content-Type": "application/x-ndjson", ...VICTORIALOGS_HEADERS };

export class ElasticsearchProtocol extends HttpProtocol {
  readonly name = "elasticsearch";
  readonly #index: string;

  constructor(target: RequestTarget, index: string, connection: ConnectionOptions = {}) {
    super(target, HEADERS, connection);
    this.#index = index;
  }

  async send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome> {
    const body = lines.map((l) => bulkItem(l, source, this.#index)).join("");
    const res = await this.post(body, signal, timeoutMs);
    const verdict = httpVerdict(res.status);
    if (verdict !== "ok") return notAcknowledged(res, verdict);
    const answer = parseBulkResponse(res.body, lines.length);
    if (!answer.ok) return { kind: "retry", status: res.status, reason: answer.error };
    const remaining: LogLine[] = [];
    let dropped = 0;
    let duplicates = 0;
    let firstReason: string | undefined;
    let firstStatus = 0;
    let denied = false;
    answer.items.forEach((item, i) => {
      if (item.kind === "ok") {
        if (item.duplicate) duplicates++;
        return;
      }
      firstReason ??= item.reason;
      if (firstStatus === 0) firstStatus = item.status;
      if (item.kind === "retry") remaining.push(lines[i]!);
      else dropped++;
      if (item.kind === "retry" && isDenied(item.status)) denied = true;
    });
    if (remaining.length > 0) return { kind: "partial", remaining, dropped, duplicates, status: firstStatus, reason: firstReason ?? "item failed", denied };
    return firstReason === undefined ? { kind: "done", dropped, duplicates } : { kind: "done", dropped, duplicates, reason: firstReason, status: firstStatus };
  }
}

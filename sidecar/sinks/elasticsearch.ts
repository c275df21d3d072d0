// Elasticsearch/OpenSearch _bulk over HTTP: sends items, resends only the items that failed
// transiently, drops (and counts) items the backend rejects for their content.

import { VICTORIALOGS_HEADERS, bulkItem, parseBulkResponse } from "./elasticsearch-encode.ts";
import { httpVerdict, post } from "./http-retry.ts";
import type { Protocol, SendOutcome } from "./network-sink.ts";
import type { LineSource, LogLine } from "./records.ts";

const HEADERS = { "Content-Type": "application/x-ndjson", ...VICTORIALOGS_HEADERS };

export class ElasticsearchProtocol implements Protocol {
  readonly name = "elasticsearch";
  readonly url: string;
  readonly #index: string;

  constructor(url: string, index: string) {
    this.url = url;
    this.#index = index;
  }

  async send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome> {
    const body = lines.map((l) => bulkItem(l, source, this.#index)).join("");
    const res = await post(this.url, body, HEADERS, timeoutMs, signal);
    const verdict = httpVerdict(res.status);
    const reason = `HTTP ${res.status}: ${res.body.slice(0, 300)}`;
    if (verdict === "retry") return { kind: "retry", status: res.status, reason };
    if (verdict === "split") return { kind: "split", status: res.status, reason };
    const answer = parseBulkResponse(res.body, lines.length);
    if (!answer.ok) return { kind: "retry", status: res.status, reason: answer.error };
    const remaining: LogLine[] = [];
    let dropped = 0;
    let duplicates = 0;
    let firstReason: string | undefined;
    let firstStatus = 0;
    answer.items.forEach((item, i) => {
      if (item.kind === "ok") {
        if (item.duplicate) duplicates++;
        return;
      }
      firstReason ??= item.reason;
      if (firstStatus === 0) firstStatus = item.status;
      if (item.kind === "retry") remaining.push(lines[i]!);
      else dropped++;
    });
    if (remaining.length > 0) return { kind: "partial", remaining, dropped, duplicates, status: firstStatus, reason: firstReason ?? "item failed" };
    return firstReason === undefined ? { kind: "done", dropped, duplicates } : { kind: "done", dropped, duplicates, reason: firstReason, status: firstStatus };
  }
}

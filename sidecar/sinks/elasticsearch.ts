// Elasticsearch/OpenSearch _bulk over HTTP: sends items, resends only the items that failed
// transiently, drops (and counts) items the backend rejects for their content.

import { VICTORIALOGS_HEADERS, bulkItem, parseBulkResponse } from "./elasticsearch-encode.ts";
import { httpReason, httpVerdict, isDenied, post } from "./http-retry.ts";
import type { Protocol, SendOutcome } from "./network-sink.ts";
import type { LineSource, LogLine } from "./records.ts";
import type { RequestTarget } from "../../settings/url-credentials.ts";

const HEADERS = { "Content-Type": "application/x-ndjson", ...VICTORIALOGS_HEADERS };

export class ElasticsearchProtocol implements Protocol {
  readonly name = "elasticsearch";
  readonly url: string;
  readonly #target: RequestTarget;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #index: string;

  constructor(target: RequestTarget, index: string) {
    this.url = target.shown;
    this.#target = target;
    this.#headers = { ...HEADERS, ...target.headers };
    this.#index = index;
  }

  async send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome> {
    const body = lines.map((l) => bulkItem(l, source, this.#index)).join("");
    const res = await post(this.#target.url, body, this.#headers, timeoutMs, signal);
    const verdict = httpVerdict(res.status);
    const reason = httpReason(res);
    if (verdict === "denied") return { kind: "retry", status: res.status, reason, denied: true };
    if (verdict === "retry") return { kind: "retry", status: res.status, reason };
    if (verdict === "split") return { kind: "split", status: res.status, reason };
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

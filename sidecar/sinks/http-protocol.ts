// What the three protocols share: one POST to the endpoint with its credentials' header, and what
// a whole-request answer that is not 2xx means for the lines sent.

import { httpReason, post, type HttpAnswer, type HttpVerdict } from "./http-retry.ts";
import type { Protocol, SendOutcome } from "./network-sink.ts";
import type { LineSource, LogLine } from "./records.ts";
import type { RequestTarget } from "../../settings/url-credentials.ts";

export abstract class HttpProtocol implements Protocol {
  abstract readonly name: string;
  readonly url: string;
  readonly #target: RequestTarget;
  readonly #headers: Readonly<Record<string, string>>;

  /** `headers`: the protocol's own (Content-Type…); the credentials' header is added. */
  constructor(target: RequestTarget, headers: Readonly<Record<string, string>>) {
    this.url = target.shown;
    this.#target = target;
    this.#headers = { ...headers, ...target.headers };
  }

  abstract send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome>;

  protected post(body: string | Uint8Array, signal: AbortSignal, timeoutMs: number): Promise<HttpAnswer> {
    return post(this.#target.url, body, this.#headers, timeoutMs, signal);
  }
}

/** A whole request not acknowledged: refused credentials and outages are retried, rejected content split. */
export function notAcknowledged(res: HttpAnswer, verdict: Exclude<HttpVerdict, "ok">): SendOutcome {
  const reason = httpReason(res);
  if (verdict === "denied") return { kind: "retry", status: res.status, reason, denied: true };
  if (verdict === "split") return { kind: "split", status: res.status, reason };
  return { kind: "retry", status: res.status, reason };
}

// What the three protocols share: one POST to the endpoint with its credentials' headers (from the
// URL or from files read again when they change), the fixed extra headers, an optional gzip body,
// and what a whole-request answer that is not 2xx means for the lines sent.

import { promisify } from "node:util";
import { gzip as gzipCallback } from "node:zlib";
import type { Header } from "../../settings/http-header.ts";
import type { RequestTarget } from "../../settings/url-credentials.ts";
import type { CredentialFiles } from "./credential-files.ts";
import { HttpClient, type HttpAnswer } from "./http-client.ts";
import { httpReason, type HttpVerdict } from "./http-retry.ts";
import type { Protocol, SendOutcome } from "./network-sink.ts";
import type { LineSource, LogLine } from "./records.ts";

const gzip = promisify(gzipCallback);
/** zlib level 1: docs/decisions.md, "gzip request bodies" (level 6 cost more CPU for little less). */
export const GZIP_LEVEL = 1;

/** The credential or TLS files cannot be used: nothing was sent (network-sink.ts reports it apart). */
export class CredentialProblem extends Error {
  override name = "CredentialProblem";
}

export interface ConnectionOptions {
  /** Files holding credentials, headers and TLS material, read again when they change. */
  readonly credentials?: CredentialFiles;
  /** Headers sent with every request: the tenant (X-Scope-OrgID) and --header. */
  readonly headers?: readonly Header[];
  /** Compress request bodies with gzip (Content-Encoding: gzip). */
  readonly gzip?: boolean;
}

export abstract class HttpProtocol implements Protocol {
  abstract readonly name: string;
  readonly url: string;
  readonly #target: RequestTarget;
  readonly #headers: Readonly<Record<string, string>>;
  readonly #client: HttpClient;
  readonly #credentials: CredentialFiles | undefined;
  readonly #gzip: boolean;
  /** The headers with those of the credential files, as prepare() last read them. */
  #fromFiles: Readonly<Record<string, string>>;

  /** `headers`: the protocol's own (Content-Type…); the credentials' and the configured ones are added. */
  constructor(target: RequestTarget, headers: Readonly<Record<string, string>>, connection: ConnectionOptions = {}) {
    this.url = target.shown;
    this.#target = target;
    this.#gzip = connection.gzip === true;
    this.#headers = { ...headers, ...Object.fromEntries(connection.headers ?? []), ...target.headers, ...(this.#gzip && { "Content-Encoding": "gzip" }) };
    this.#fromFiles = this.#headers;
    this.#client = new HttpClient(target.url);
    this.#credentials = connection.credentials?.any === true ? connection.credentials : undefined;
  }

  abstract send(lines: readonly LogLine[], source: LineSource, signal: AbortSignal, timeoutMs: number): Promise<SendOutcome>;

  /** The credential files as they are now (read again when they changed): their headers and TLS material from this attempt on. */
  async prepare(): Promise<void> {
    if (this.#credentials === undefined) return;
    const loaded = await this.#credentials.load();
    if (!loaded.ok) throw new CredentialProblem(loaded.problem);
    this.#client.useTls(loaded.material.tls);
    this.#fromFiles = loaded.material.headers.length === 0 ? this.#headers : { ...this.#headers, ...Object.fromEntries(loaded.material.headers) };
  }

  protected async post(body: string | Uint8Array, signal: AbortSignal, timeoutMs: number): Promise<HttpAnswer> {
    const headers = this.#fromFiles;
    const payload = this.#gzip ? await gzip(body, { level: GZIP_LEVEL }) : body;
    return this.#client.post(this.#target.url, payload, headers, timeoutMs, signal);
  }

  close(): void {
    this.#client.close();
    this.#credentials?.close();
  }
}

/** A whole request not acknowledged: refused credentials and outages are retried, rejected content split. */
export function notAcknowledged(res: HttpAnswer, verdict: Exclude<HttpVerdict, "ok">): SendOutcome {
  const reason = httpReason(res);
  if (verdict === "denied") return { kind: "retry", status: res.status, reason, denied: true };
  if (verdict === "split") return { kind: "split", status: res.status, reason };
  return { kind: "retry", status: res.status, reason };
}

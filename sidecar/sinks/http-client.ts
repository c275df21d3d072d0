// One POST at a time to one backend over node:http or node:https, with keep-alive, and TLS material
// (a CA bundle, a client certificate and key) that can change while the sidecar runs: a new agent
// takes the new material, and the old one's sockets are closed. node:https and not fetch: Node's
// fetch takes no CA or client certificate without a dispatcher from the undici package, a
// dependency for what node:https does (docs/decisions.md, "Forwarding over node:https").
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";

export interface TlsMaterial {
  /** PEM CA bundle: trusted instead of Node's built-in roots when given. */
  readonly ca?: Buffer;
  /** PEM client certificate (chain) and its key, for backends that ask for one (mTLS). */
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface HttpAnswer {
  readonly status: number;
  /** The body as UTF-8 text, for JSON answers and messages. */
  readonly body: string;
  /** The body's bytes, for binary (protobuf) answers. */
  readonly bytes: Buffer;
}

export class HttpClient {
  readonly #https: boolean;
  #agent: HttpAgent;
  #tls: TlsMaterial | undefined;

  constructor(url: string) {
    this.#https = new URL(url).protocol === "https:";
    this.#agent = this.#newAgent({});
  }

  #newAgent(tls: TlsMaterial): HttpAgent {
    // One request is in flight at a time (network-sink.ts): one socket, kept between requests.
    const options = { keepAlive: true, maxSockets: 1 };
    return this.#https ? new HttpsAgent({ ...options, ...(tls.ca && { ca: tls.ca }), ...(tls.cert && { cert: tls.cert }), ...(tls.key && { key: tls.key }) }) : new HttpAgent(options);
  }

  /** Uses `tls` from the next request on when it differs from the material in use (compared by content). */
  useTls(tls: TlsMaterial): void {
    if (!this.#https || (this.#tls !== undefined && sameTls(this.#tls, tls))) return;
    const old = this.#agent;
    this.#agent = this.#newAgent(tls);
    this.#tls = tls;
    old.destroy();
  }

  /** One POST; throws on network and TLS errors, and with a TimeoutError after `timeoutMs`. */
  post(url: string, body: string | Uint8Array, headers: Readonly<Record<string, string>>, timeoutMs: number, abort: AbortSignal): Promise<HttpAnswer> {
    const signal = AbortSignal.any([abort, AbortSignal.timeout(timeoutMs)]);
    const payload = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    return new Promise<HttpAnswer>((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason as Error);
      const send = this.#https ? httpsRequest : httpRequest;
      const req = send(url, { method: "POST", agent: this.#agent, headers: { ...headers, "Content-Length": String(payload.byteLength) } }, (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          signal.removeEventListener("abort", onAbort);
          const bytes = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, body: bytes.toString("utf8"), bytes });
        });
        res.on("error", fail);
      });
      function fail(e: Error): void {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      }
      function onAbort(): void {
        req.destroy(signal.reason as Error);
      }
      signal.addEventListener("abort", onAbort, { once: true });
      req.on("error", fail);
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function same(a: Buffer | undefined, b: Buffer | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.equals(b);
}

function sameTls(a: TlsMaterial, b: TlsMaterial): boolean {
  return same(a.ca, b.ca) && same(a.cert, b.cert) && same(a.key, b.key);
}

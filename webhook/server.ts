// The HTTPS shell around admit(): express 5 on node:https, health and readiness, metrics, one log
// line per admission, body limit, timeouts and graceful shutdown.
import { Server } from "node:https";
import type { AddressInfo } from "node:net";
import type { SecureContextOptions } from "node:tls";
import express, { type NextFunction, type Request, type Response } from "express";
import { admit } from "./admit.ts";
import { deepFreeze } from "./deep-freeze.ts";
import { jsonBody } from "./json-body.ts";
import { admissionReviewJson, isAsciiReview } from "./review.ts";
import type { Logger } from "./log.ts";
import type { WebhookMetrics } from "./metrics.ts";
import type { InjectOptions } from "./options.ts";

/** The API server's own limit for a request body; a Pod cannot be bigger than this. */
export const BODY_LIMIT_BYTES = 3 * 1024 * 1024;

/** Conditions that must all be met before /readyz answers 200 (e.g. "tls", "caBundle"). */
export class Readiness {
  readonly #pending = new Set<string>();
  #stopping = false;
  constructor(conditions: readonly string[] = []) {
    for (const c of conditions) this.#pending.add(c);
  }
  done(condition: string): void {
    this.#pending.delete(condition);
  }
  stop(): void {
    this.#stopping = true;
  }
  get stopping(): boolean {
    return this.#stopping;
  }
  /** Why the server is not ready; empty when it is. */
  reasons(): string[] {
    return [...(this.#stopping ? ["shutting down"] : []), ...[...this.#pending].map((c) => `waiting for ${c}`)];
  }
}

export interface AppDeps {
  readonly options: InjectOptions;
  /** The webhook's version, for the tailcar.io/status annotation. */
  readonly version: string;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  readonly readiness: Readiness;
}

function elapsedSeconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function bodyParserError(err: unknown): { status: number; error: string } | undefined {
  if (typeof err !== "object" || err === null || !("type" in err)) return undefined;
  const e = err as { type: unknown; message?: unknown; length?: unknown; limit?: unknown; status?: unknown };
  switch (e.type) {
    case "entity.parse.failed":
      return { status: 400, error: `request body is not valid JSON: ${String(e.message)}` };
    case "entity.too.large": {
      // A chunked or compressed body has no length to quote: say how much had arrived.
      const received = (err as { received?: unknown }).received;
      return typeof e.length === "number"
        ? { status: 413, error: `request body of ${e.length} bytes is above the limit of ${String(e.limit)} bytes` }
        : { status: 413, error: `request body is above the limit of ${String(e.limit)} bytes (sent without a length; cut off after ${String(received)} bytes)` };
    }
    case "request.size.invalid":
      return { status: 400, error: "request body is shorter than its Content-Length" };
    case "entity.too.deep":
      // body-parser turns an error thrown by its verify function into a 403; it is a bad body.
      return { status: 400, error: String(e.message) };
    case "encoding.unsupported":
    case "charset.unsupported":
      return { status: 415, error: String(e.message) };
    default:
      return typeof e.status === "number" && e.status >= 400 && e.status < 500 ? { status: e.status, error: String(e.message) } : undefined;
  }
}

/**
 * What res.status(status).json(body) sends (the same headers, with etag off), without express's
 * copy of every body over 1000 characters into a Buffer: the socket takes the string as it is.
 * An ASCII text (every answer but one quoting non-ASCII input) goes out as latin1, the same bytes:
 * node then copies it, where UTF-8 had it measured and encoded again (docs/decisions.md). `ascii`:
 * the caller knows it is; otherwise a UTF-8 length equal to its length tells.
 */
export function sendJson(res: Response, status: number, text: string, ascii = false): void {
  const bytes = ascii ? text.length : Buffer.byteLength(text);
  res.statusCode = status;
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  res.setHeader("Content-Length", bytes);
  res.end(text, bytes === text.length ? "latin1" : "utf8");
}

export function createApp(deps: AppDeps): express.Express {
  const { metrics, logger, readiness } = deps;
  // A frozen copy: injection keeps per-configuration work for frozen options only (memo.ts).
  const options = deepFreeze(structuredClone(deps.options));
  const { version } = deps;
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);

  const stamp = (_req: Request, res: Response, next: NextFunction): void => {
    res.locals["start"] = process.hrtime.bigint();
    // Once shutting down, finish this request and let the client reconnect elsewhere.
    if (readiness.stopping) res.setHeader("Connection", "close");
    next();
  };

  // The hot path, first, so that express does not match it against the other routes before, and
  // stamped by its own route: an app-wide middleware in front of it would go through express's
  // prefix matching and URL trimming on every admission.
  app.post("/mutate", stamp, jsonBody(BODY_LIMIT_BYTES), (req: Request, res: Response) => {
    const outcome = admit(req.body, options, version);
    const seconds = elapsedSeconds(res.locals["start"] as bigint);
    metrics.requests.inc({ result: outcome.result });
    metrics.duration.observe({ result: outcome.result }, seconds);
    if (outcome.warnings.length > 0) metrics.warnings.inc(outcome.warnings.length);
    if (!outcome.dryRun && outcome.injected.length > 0) metrics.sidecarsInjected.inc(outcome.injected.length);
    if (outcome.skipped !== undefined) metrics.skipped.inc({ reason: outcome.skipped });
    logger.log(outcome.result === "error" ? "error" : outcome.result === "invalid" ? "warn" : "info", "admission", {
      ...outcome.fields,
      result: outcome.result,
      ...(outcome.status !== 200 ? { status: outcome.status, error: (outcome.body as { error?: string }).error } : {}),
      injected: outcome.injected,
      warnings: outcome.warnings,
      ...(outcome.skipped !== undefined ? { skipped: outcome.skipped } : {}),
      ms: Math.round(seconds * 1e6) / 1e3,
    });
    if ("response" in outcome.body) sendJson(res, outcome.status, admissionReviewJson(outcome.body), isAsciiReview(outcome.body));
    else sendJson(res, outcome.status, JSON.stringify(outcome.body));
  });

  // Every other request, /mutate with another method included.
  app.use(stamp);

  app.get("/healthz", (_req, res) => {
    res.type("text/plain").send("ok\n");
  });
  app.get("/readyz", (_req, res) => {
    const reasons = readiness.reasons();
    if (reasons.length === 0) res.type("text/plain").send("ok\n");
    else res.status(503).json({ ready: false, reasons });
  });
  app.get("/metrics", async (_req, res, next) => {
    try {
      const text = await metrics.registry.metrics();
      res.type(metrics.registry.contentType).send(text);
    } catch (e) {
      next(e);
    }
  });

  app.use((req: Request, res: Response) => {
    res.status(404).json({ error: `no route for ${req.method} ${req.path}: the webhook serves POST /mutate, GET /healthz, /readyz, /metrics` });
  });

  // Express's error middleware is recognised by its four parameters.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const known = bodyParserError(err);
    const status = known?.status ?? 500;
    const error = known?.error ?? `internal error: ${err instanceof Error ? err.message : String(err)}`;
    if (req.path === "/mutate") {
      const result = "invalid";
      metrics.requests.inc({ result });
      metrics.duration.observe({ result }, elapsedSeconds((res.locals["start"] as bigint | undefined) ?? process.hrtime.bigint()));
    }
    logger.log(status >= 500 ? "error" : "warn", "request failed", { method: req.method, path: req.path, status, error });
    if (res.headersSent) return;
    res.status(status).json({ error });
  });
  return app;
}

/**
 * TLS 1.3, or TLS 1.2 with ECDHE key exchange and an AEAD cipher: no CBC-SHA1 suites, no RSA key
 * exchange. The API server (Go's crypto/tls) offers these first; anything older is refused.
 */
export const TLS_POLICY = {
  minVersion: "TLSv1.2",
  ciphers: [
    "TLS_AES_128_GCM_SHA256",
    "TLS_AES_256_GCM_SHA384",
    "TLS_CHACHA20_POLY1305_SHA256",
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
  ].join(":"),
} as const satisfies SecureContextOptions;

/**
 * An HTTPS server whose every secure context keeps TLS_POLICY: node's setSecureContext (how a
 * renewed certificate is loaded) otherwise resets the ciphers and minimum version to node's defaults.
 */
class PolicyServer extends Server {
  override setSecureContext(options: SecureContextOptions): void {
    super.setSecureContext({ ...options, ...TLS_POLICY });
  }
}

export interface ServerTimeouts {
  /** The TLS handshake. */
  readonly handshakeMs: number;
  /** A request's headers, from its first byte. */
  readonly headersMs: number;
  /** A whole request, headers and body. */
  readonly requestMs: number;
  /**
   * How often node checks the two above: it cuts a slow sender off at the first check past its
   * deadline, so node's default of 30 s let one hold a connection for 40 s instead of 10.
   */
  readonly checkIntervalMs: number;
  /** An idle keep-alive connection. */
  readonly keepAliveMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = {
  handshakeMs: 10_000,
  headersMs: 10_000,
  // The API server waits at most 30 s for a webhook; nothing legitimate takes longer.
  requestMs: 30_000,
  checkIntervalMs: 500,
  // Longer than the API server's idle timeout (Go's 90 s), so the client, not us, closes idle
  // connections and never sends on one we just closed.
  keepAliveMs: 95_000,
};

export interface ServeOptions {
  readonly port: number;
  readonly address: string;
  readonly tls: SecureContextOptions;
  /** Tests shorten these; the defaults are the documented ones. */
  readonly timeouts?: Partial<ServerTimeouts>;
}

export interface RunningServer {
  readonly server: Server;
  readonly port: number;
  /** Stops accepting, lets in-flight requests finish, and closes connections after graceMs at most. */
  close(graceMs?: number): Promise<void>;
}

export async function serve(app: express.Express, opts: ServeOptions, readiness: Readiness): Promise<RunningServer> {
  const t = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
  const server = new PolicyServer({
    ...opts.tls,
    ...TLS_POLICY,
    handshakeTimeout: t.handshakeMs,
    headersTimeout: t.headersMs,
    requestTimeout: t.requestMs,
    connectionsCheckingInterval: t.checkIntervalMs,
    keepAliveTimeout: t.keepAliveMs,
  }, app);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.address, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = (graceMs = 10_000): Promise<void> =>
    (closing ??= new Promise<void>((resolve) => {
      readiness.stop();
      const force = setTimeout(() => server.closeAllConnections(), graceMs);
      // A keep-alive connection whose request was in flight at close() becomes idle afterwards;
      // sweep those until the last one is gone.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      server.close(() => {
        clearTimeout(force);
        clearInterval(sweep);
        resolve();
      });
      server.closeIdleConnections();
    }));
  return { server, port, close };
}

// /mutate's body parser. What the API server sends, a UTF-8 JSON body with a Content-Length within
// the limit and no Content-Encoding, is read here as raw chunks and parsed once; everything else
// (compressed, chunked, other charsets, empty, over the limit) goes to express.json, which decides
// and words those cases. Both give the same req.body and the same errors for the same bytes; this
// path only skips express.json's per-request machinery (charset parsing, a streaming decoder),
// which cost ~4 µs a request, about 5% of a no-op handler (docs/decisions.md).
import express, { type NextFunction, type Request, type RequestHandler, type Response } from "express";
import { MAX_JSON_DEPTH, nestsDeeperThan, SCAN_FROM_BYTES } from "./json-depth.ts";

const DECIMAL = /^\d+$/;
const UTF8_ONLY = /^[^;]*;\s*charset="?utf-8"?\s*$/i;

function plain(req: Request, limit: number): boolean {
  const h = req.headers;
  if (h["content-encoding"] !== undefined || h["transfer-encoding"] !== undefined) return false;
  const length = h["content-length"];
  if (length === undefined || !DECIMAL.test(length) || Number(length) === 0 || Number(length) > limit) return false;
  const type = h["content-type"];
  return type === undefined || !/charset/i.test(type) || UTF8_ONLY.test(type);
}

/** An error shaped like body-parser's, so the server's error handler reports it the same way. */
function bodyError(status: number, type: string, message: string, extra: Record<string, unknown> = {}, error = new Error(message)): Error {
  return Object.assign(error, { status, statusCode: status, expose: true, type, ...extra });
}

function tooDeep(): Error {
  return bodyError(400, "entity.too.deep", `request body nests more than ${MAX_JSON_DEPTH} arrays or objects inside each other`);
}

/**
 * body-parser passes a decompressor's own error on as it is (no status, no type: a 500): a body that
 * says Content-Encoding gzip, deflate, br or zstd but is not is the client's fault, a 400.
 */
function decodeError(req: Request, err: unknown): unknown {
  const encoding = req.headers["content-encoding"];
  if (encoding === undefined || (typeof err === "object" && err !== null && "type" in err)) return err;
  const message = err instanceof Error ? err.message : String(err);
  return bodyError(400, "encoding.failed", `request body is not valid ${JSON.stringify(encoding)} (its Content-Encoding): ${message}`);
}

export function jsonBody(limit: number): RequestHandler {
  // Parse any content type as JSON: the API server sends application/json, and a wrong header
  // should get a message about the body, not a silent empty object. strict:false lets admit()
  // explain a body that is JSON but not an object.
  const fallback = express.json({
    limit,
    strict: false,
    type: () => true,
    verify: (_req, _res, buf) => {
      if (buf.length >= SCAN_FROM_BYTES && nestsDeeperThan([buf])) throw tooDeep();
    },
  });
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.complete || !plain(req, limit)) {
      fallback(req, res, (err?: unknown) => next(err === undefined ? undefined : decodeError(req, err)));
      return;
    }
    const expected = Number(req.headers["content-length"]);
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const settle = (error?: Error): void => {
      if (settled) return;
      settled = true;
      req.off("data", onData).off("end", onEnd).off("aborted", onAborted).off("close", onAborted).off("error", onError);
      if (error !== undefined) {
        next(error);
        return;
      }
      // As iconv-lite's UTF-8 decoder does for body-parser: invalid bytes become U+FFFD, a BOM goes.
      if (received >= SCAN_FROM_BYTES && nestsDeeperThan(chunks)) {
        next(tooDeep());
        return;
      }
      let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString("utf8");
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      try {
        req.body = text.length === 0 ? {} : (JSON.parse(text) as unknown);
      } catch (e) {
        next(bodyError(400, "entity.parse.failed", (e as Error).message, { body: text }, e as Error));
        return;
      }
      next();
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      settle(received === expected ? undefined : bodyError(400, "request.size.invalid", "request size did not match content length", { expected, length: expected, received }));
    };
    const onAborted = (): void => settle(bodyError(400, "request.aborted", "request aborted", { code: "ECONNABORTED", expected, length: expected, received }));
    const onError = (e: Error): void => settle(bodyError(400, "request.aborted", e.message, {}, e));
    req.on("data", onData).on("end", onEnd).on("aborted", onAborted).on("close", onAborted).on("error", onError);
  };
}

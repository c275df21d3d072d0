// One server of the webhook benchmark in a process of its own, so that no server's heap, GC or
// JIT state weighs on another's figures (they used to share the benchmark's process, and the
// no-op baseline's CPU per request moved by 40 % between runs with the same code). Reads a
// ServerSpec as JSON on stdin (to its end), prints `{"port":N}` once it listens, serves until SIGTERM.
import { openSync, writeSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { SecureContextOptions } from "node:tls";
import { admit } from "../webhook/admit.ts";
import { batchedSink, createLogger } from "../webhook/log.ts";
import { createMetrics } from "../webhook/metrics.ts";
import { DEFAULT_INJECT_OPTIONS } from "../webhook/options.ts";
import { createApp, Readiness, serve } from "../webhook/server.ts";
import { admissionReviewJson } from "../webhook/review.ts";
import { computedAnswerApp, noopApp, tailcarAnswerText, tailcarShapedApp } from "./webhook.ts";

export type ServerKind = "noop" | "tailcar" | "reference" | "reference-admit" | "tailcar-nolog" | "tailcar-fmtonly" | "tailcar-nometrics" | "admit-send";

export interface ServerSpec {
  readonly kind: ServerKind;
  readonly tls: Pick<SecureContextOptions, "cert" | "key">;
}

function appFor(kind: ServerKind, readiness: Readiness): ReturnType<typeof noopApp> {
  switch (kind) {
    case "noop":
      return noopApp();
    case "tailcar": {
      // The real server logs a JSON line per admission; keep that cost, but into /dev/null.
      const devNull = openSync("/dev/null", "w");
      const logger = createLogger(batchedSink((chunk) => void writeSync(devNull, chunk)));
      return createApp({ options: DEFAULT_INJECT_OPTIONS, metrics: createMetrics(), logger, readiness });
    }
    case "tailcar-nolog":
      return createApp({ options: DEFAULT_INJECT_OPTIONS, metrics: createMetrics(), logger: { log() {}, info() {}, warn() {}, error() {} }, readiness });
    case "tailcar-fmtonly":
      return createApp({ options: DEFAULT_INJECT_OPTIONS, metrics: createMetrics(), logger: createLogger(() => {}), readiness });
    case "tailcar-nometrics": {
      const devNull = openSync("/dev/null", "w");
      const logger = createLogger(batchedSink((chunk) => void writeSync(devNull, chunk)));
      return createApp({ options: DEFAULT_INJECT_OPTIONS, metrics: createMetrics({ processMetrics: false }), logger, readiness });
    }
    case "admit-send":
      // /mutate's answer computed and written, without the log line, metrics or start stamp.
      return computedAnswerApp((review) => {
        const outcome = admit(review, DEFAULT_INJECT_OPTIONS);
        return "response" in outcome.body ? admissionReviewJson(outcome.body) : JSON.stringify(outcome.body);
      });
    case "reference":
      return tailcarShapedApp(tailcarAnswerText());
    case "reference-admit":
      return tailcarShapedApp(tailcarAnswerText(), (review) => void admit(review, DEFAULT_INJECT_OPTIONS));
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const spec = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ServerSpec;
  const readiness = new Readiness();
  const running = await serve(appFor(spec.kind, readiness), { port: 0, address: "127.0.0.1", tls: spec.tls }, readiness);
  process.stdout.write(`${JSON.stringify({ port: running.port })}\n`);
  const stop = (): void => void running.close(500).then(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

// One server of the webhook benchmark in a process of its own, so that no server's heap, GC or
// JIT state weighs on another's figures (they used to share the benchmark's process, and the
// no-op baseline's CPU per request moved by 40 % between runs with the same code). Reads a
// ServerSpec as JSON on stdin (to its end), prints `{"port":N}` once it listens, serves until SIGTERM.
import { openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SecureContextOptions } from "node:tls";
import { admit } from "../webhook/admit.ts";
import { batchedSink, createLogger, type Logger } from "../webhook/log.ts";
import { createMetrics } from "../webhook/metrics.ts";
import { defaultInjectOptions } from "../webhook/options.ts";
import { createApp, Readiness, serve } from "../webhook/server.ts";
import { admissionReviewJson } from "../webhook/review.ts";
import { computedAnswerApp, noopApp, tailcarAnswerText, tailcarShapedApp } from "./webhook.ts";
import { packageVersion } from "../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();
const DEFAULT_INJECT_OPTIONS = defaultInjectOptions(VERSION);

export const SERVER_KINDS = ["noop", "tailcar", "reference", "reference-admit", "admit-send", "tailcar-nolog", "tailcar-fmtonly", "tailcar-nometrics"] as const;
/**
 * reference-spinN: the reference plus N µs of busy CPU a request. What any added handler work costs
 * under load, against its in-process cost: the budget injection has to fit in (docs/decisions.md).
 */
export type SpinKind = `reference-spin${number}`;
export type ServerKind = (typeof SERVER_KINDS)[number] | SpinKind;
const SPIN = /^reference-spin(\d{1,4})$/;

function isServerKind(kind: string): kind is ServerKind {
  return (SERVER_KINDS as readonly string[]).includes(kind) || SPIN.test(kind);
}

export interface ServerSpec {
  readonly kind: ServerKind;
  readonly tls: Pick<SecureContextOptions, "cert" | "key">;
}

/**
 * A server named on a tool's command line: KIND, or DIR:KIND for the server of another checkout
 * (a git worktree of an older commit, say).
 */
export function serverArgument(argument: string): { kind: ServerKind; script?: string } {
  const at = argument.lastIndexOf(":");
  const kind = argument.slice(at + 1);
  if (!isServerKind(kind)) throw new Error(`unknown server kind ${JSON.stringify(kind)}: one of ${SERVER_KINDS.join(", ")}, reference-spinN (N µs of busy CPU)`);
  return { kind, ...(at >= 0 && { script: join(argument.slice(0, at), "bench", "webhook-server.ts") }) };
}

/** The real server logs a JSON line per admission; keep that cost, but into /dev/null. */
function devNullLogger(): Logger {
  const devNull = openSync("/dev/null", "w");
  return createLogger(batchedSink((chunk) => void writeSync(devNull, chunk)));
}

function tailcarApp(readiness: Readiness, logger: Logger = devNullLogger(), processMetrics = true): ReturnType<typeof noopApp> {
  return createApp({ options: DEFAULT_INJECT_OPTIONS, version: VERSION, metrics: createMetrics({ processMetrics }), logger, readiness });
}

/** The app behind each server kind (also served in-process by bench/webhook-profile.ts). */
export function appFor(kind: ServerKind, readiness: Readiness): ReturnType<typeof noopApp> {
  const spin = SPIN.exec(kind);
  if (spin !== null) {
    const ms = Number(spin[1]) / 1000;
    return tailcarShapedApp(tailcarAnswerText(), () => {
      for (const until = performance.now() + ms; performance.now() < until; );
    });
  }
  switch (kind) {
    case "noop":
      return noopApp();
    case "tailcar":
      return tailcarApp(readiness);
    case "tailcar-nolog":
      // A logger that drops everything before formatting it.
      return tailcarApp(readiness, { log() {}, info() {}, warn() {}, error() {} });
    case "tailcar-fmtonly":
      // Lines formatted but never written: what writing them costs, against tailcar.
      return tailcarApp(readiness, createLogger(() => {}));
    case "tailcar-nometrics":
      return tailcarApp(readiness, devNullLogger(), false);
    case "admit-send":
      // /mutate's answer computed and written, without the log line, metrics or start stamp.
      return computedAnswerApp((review) => {
        const outcome = admit(review, DEFAULT_INJECT_OPTIONS, VERSION);
        return "response" in outcome.body ? admissionReviewJson(outcome.body) : JSON.stringify(outcome.body);
      });
    case "reference":
      return tailcarShapedApp(tailcarAnswerText());
    case "reference-admit":
      return tailcarShapedApp(tailcarAnswerText(), (review) => void admit(review, DEFAULT_INJECT_OPTIONS, VERSION));
    default:
      throw new Error(`unknown server kind ${JSON.stringify(kind)}`);
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

// Shared by the webhook's HTTPS tests: a real server on 127.0.0.1:0 with a self-signed CA, and a
// small client that trusts only that CA.
import { request, Agent } from "node:https";
import { generateCertBundle, type CertBundle } from "../../webhook/certs.ts";
import { createLogger, type Logger } from "../../webhook/log.ts";
import { createMetrics, type WebhookMetrics } from "../../webhook/metrics.ts";
import type { InjectOptions } from "../../webhook/options.ts";
import { DEFAULT_INJECT_OPTIONS, VERSION } from "./default-options.ts";
import { createApp, Readiness, serve, type RunningServer } from "../../webhook/server.ts";

let certs: Promise<CertBundle> | undefined;
/** One CA and certificate for all tests of a file: generation is the slow part. */
export function testCerts(): Promise<CertBundle> {
  return (certs ??= generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] }));
}

export interface TestServer {
  readonly port: number;
  readonly ca: string;
  readonly metrics: WebhookMetrics;
  readonly readiness: Readiness;
  readonly logs: Record<string, unknown>[];
  readonly running: RunningServer;
  close(): Promise<void>;
}

export async function startTestServer(options: InjectOptions = DEFAULT_INJECT_OPTIONS, conditions: string[] = []): Promise<TestServer> {
  const bundle = await testCerts();
  const logs: Record<string, unknown>[] = [];
  const logger: Logger = createLogger((line) => logs.push(JSON.parse(line) as Record<string, unknown>));
  const metrics = createMetrics();
  const readiness = new Readiness(conditions);
  const app = createApp({ options, version: VERSION, metrics, logger, readiness });
  const running = await serve(app, { port: 0, address: "127.0.0.1", tls: { cert: bundle.cert, key: bundle.key } }, readiness);
  return { port: running.port, ca: bundle.caCert, metrics, readiness, logs, running, close: () => running.close(1000) };
}

export interface Reply {
  readonly status: number;
  readonly text: string;
  readonly headers: Record<string, string | string[] | undefined>;
  json<T = Record<string, unknown>>(): T;
}

export function call(
  port: number,
  ca: string,
  method: string,
  path: string,
  body?: string | Buffer,
  /** servername: the name the certificate must carry (default: the address, 127.0.0.1). */
  options: { timeoutMs?: number; agent?: Agent; headers?: Record<string, string>; servername?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        ca,
        ...(options.servername === undefined ? {} : { servername: options.servername }),
        agent: options.agent ?? false,
        headers: { "content-type": "application/json", ...options.headers },
        timeout: options.timeoutMs ?? 5000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          resolve({ status: res.statusCode ?? 0, text, headers: res.headers, json: <T>() => JSON.parse(text) as T });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within ${options.timeoutMs ?? 5000} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}

export function review(request: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", request };
}

export function podCreate(uid: string, pod: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return review({
    uid,
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    operation: "CREATE",
    object: pod,
    ...extra,
  });
}

/** The value of one sample line of a Prometheus text exposition, 0 when absent. */
export function sample(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

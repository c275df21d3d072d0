// The real `tailcar webhook` as a child process on 127.0.0.1, as the e2e tests and the demo run it:
// started from the built CLI, its JSON log kept in a file, its port read from its `listening` line.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { issueServingCert, type KeyPairPEM } from "./harness/certs.ts";
import { httpGet } from "./harness/control-plane.ts";
import { pollUntil } from "./harness/poll.ts";
import { projectRoot } from "./harness/pins.ts";
import { forgetOnExit, removeOnExit, startProcess, type ManagedProcess } from "./harness/processes.ts";

export const CLI = join(projectRoot(), "dist", "cli", "main.js");

export type LogLine = Readonly<Record<string, unknown>> & { readonly msg?: string; readonly level?: string };

export interface WebhookProcess {
  readonly process: ManagedProcess;
  readonly port: number;
  /** https://127.0.0.1:PORT (no path: registerMutatingWebhook keeps the manifest's /mutate). */
  readonly url: string;
  /** Its JSON log lines so far (stdout); other lines (stderr) are skipped. */
  logLines(): LogLine[];
  /** Waits (bounded) for a log line matching `predicate`; fails early if the process exits. */
  waitForLog(what: string, predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** GET a path over HTTPS without checking the certificate (it is our own process on 127.0.0.1). */
  get(path: string): Promise<{ status: number; body: string }>;
  /** SIGTERM; resolves with the exit code. The log folder stays until cleanup(). */
  stop(): Promise<number | string>;
  /** Stops it if needed and removes its log folder. */
  cleanup(): Promise<void>;
}

export interface StartWebhookOptions {
  /** Default 0: any free port. Give the previous port to restart a webhook the API server knows. */
  readonly port?: number;
  /** Wait until /readyz answers 200 (default true). */
  readonly waitReady?: boolean;
  readonly readyTimeoutMs?: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly name?: string;
}

/** The webhook's own endpoints, whichever certificate it serves (its trust is what the tests check elsewhere). */
function insecureGet(url: string): Promise<{ status: number; body: string }> {
  return httpGet(url, { rejectUnauthorized: false });
}

function parseLines(text: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    try {
      lines.push(JSON.parse(line) as LogLine);
    } catch {
      // A line still being written.
    }
  }
  return lines;
}

/** Starts `tailcar webhook ARGS --address 127.0.0.1 --port PORT`; resolves once it listens (and is ready). */
export interface ServingCertFiles {
  /** The temporary folder holding tls.crt and tls.key; the caller removes it. */
  readonly dir: string;
  /** `--tls-cert FILE --tls-key FILE` for `tailcar webhook`. */
  readonly args: readonly string[];
}

/** A serving certificate for 127.0.0.1 signed by the control plane's CA, written as the webhook's mounted cert files. */
export async function writeServingCertFiles(ca: KeyPairPEM): Promise<ServingCertFiles> {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-e2e-certs-"));
  const serving = await issueServingCert(ca, { ips: ["127.0.0.1"] });
  writeFileSync(join(dir, "tls.crt"), serving.cert);
  writeFileSync(join(dir, "tls.key"), serving.key, { mode: 0o600 });
  return { dir, args: ["--tls-cert", join(dir, "tls.crt"), "--tls-key", join(dir, "tls.key")] };
}

export async function startWebhook(args: readonly string[], options: StartWebhookOptions = {}): Promise<WebhookProcess> {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-webhook-e2e-"));
  removeOnExit(dir);
  const logPath = join(dir, "webhook.log");
  const child = startProcess({
    name: options.name ?? "tailcar webhook",
    command: process.execPath,
    args: [CLI, "webhook", ...args, "--address", "127.0.0.1", "--port", String(options.port ?? 0)],
    logPath,
    env: { ...process.env, ...options.env },
  });
  const logLines = (): LogLine[] => {
    try {
      return parseLines(readFileSync(logPath, "utf8"));
    } catch {
      return [];
    }
  };
  const died = (): string | undefined => (child.hasExited() ? `the webhook exited early; last lines of its log:\n${child.logTail()}` : undefined);
  const waitForLog = (what: string, predicate: (line: LogLine) => boolean, timeoutMs = 20_000): Promise<LogLine> =>
    pollUntil(`webhook log line: ${what}`, async () => logLines().find(predicate), { timeoutMs, intervalMs: 100, abortIf: died });
  const cleanup = async (): Promise<void> => {
    await child.stop(10_000);
    rmSync(dir, { recursive: true, force: true });
    forgetOnExit(dir);
  };
  try {
    const listening = await waitForLog("listening", (l) => l.msg === "listening" && typeof l["port"] === "number");
    const port = listening["port"] as number;
    const base = `https://127.0.0.1:${port}`;
    if (options.waitReady ?? true) {
      await pollUntil(`${base}/readyz to answer 200`, async () => ((await insecureGet(`${base}/readyz`)).status === 200 ? true : undefined), {
        timeoutMs: options.readyTimeoutMs ?? 30_000,
        intervalMs: 200,
        abortIf: died,
      });
    }
    return {
      process: child,
      port,
      url: base,
      logLines,
      waitForLog,
      get: (path) => insecureGet(`${base}${path}`),
      async stop() {
        await child.stop(10_000);
        return child.exited;
      },
      cleanup,
    };
  } catch (e) {
    const tail = child.logTail();
    await cleanup();
    throw new Error(`${e instanceof Error ? e.message : String(e)}\nwebhook log:\n${tail}`);
  }
}

/** The value of an unlabelled metric in Prometheus text, or undefined when absent. */
export function metricValue(text: string, name: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

/** The repository's root folder (found from this file, in localcluster/ or compiled in dist/localcluster/). */
export const REPO_ROOT = projectRoot();

/** The MutatingWebhookConfiguration we ship, as YAML text. */
export const shippedWebhookConfiguration = (): string => readFileSync(join(REPO_ROOT, "manifests/base/mutatingwebhookconfiguration.yaml"), "utf8");

/** The Kubernetes docs' `application` pod with the tailcar.io/files annotation (the golden input). */
export const applicationPodYAML = (): string => readFileSync(join(REPO_ROOT, "test/golden/application.in.yaml"), "utf8");

/**
 * Creates a pod through a raw HTTPS request with the admin client certificate, so the API server's
 * `Warning` response headers (admission warnings) can be read; the client library drops them.
 */
export function createPodRaw(
  apiURL: string,
  tls: { ca: string; cert: string; key: string },
  namespace: string,
  pod: unknown,
  timeoutMs = 15_000,
): Promise<{ status: number; warnings: string[]; body: string }> {
  const payload = JSON.stringify(pod);
  return new Promise((resolve, reject) => {
    const req = request(
      `${apiURL}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`,
      { method: "POST", ...tls, timeout: timeoutMs, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (body += d));
        res.on("end", () => {
          const raw = res.headers["warning"];
          const headers = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
          // RFC 7234 form, as the API server writes it: 299 - "text", possibly several per header.
          const warnings = headers.flatMap((h) => [...h.matchAll(/299 - "((?:[^"\\]|\\.)*)"/g)].map((m) => (m[1] ?? "").replace(/\\(.)/g, "$1")));
          resolve({ status: res.statusCode ?? 0, warnings, body });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer from ${apiURL} within ${timeoutMs} ms`)));
    req.on("error", reject);
    req.end(payload);
  });
}

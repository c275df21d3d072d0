// `tailcar webhook`: settings → sidecar mode → TLS source → HTTPS server, until SIGTERM/SIGINT.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateCertBundle } from "./certs.ts";
import { createLogger, type Logger } from "./log.ts";
import { createMetrics } from "./metrics.ts";
import { injectOptions } from "./options.ts";
import { packageVersion } from "./package-version.ts";
import { createApp, Readiness, serve } from "./server.ts";
import { parseWebhookSettings, SettingsError, settingsHelp, type WebhookSettings } from "./settings.ts";
import { resolveSidecarMode } from "./sidecar-mode.ts";
import { readTlsPair, watchTlsFiles, type TlsPair } from "./tls-files.ts";
import { redactCredentials } from "../settings/url-credentials.ts";

const USAGE = `Usage: tailcar webhook (--tls-cert FILE --tls-key FILE | --self-bootstrap | --self-signed) [options]

Serves the mutating admission webhook over HTTPS: POST /mutate (AdmissionReview admission.k8s.io/v1),
GET /healthz, /readyz, /metrics. Logs are JSON lines on stdout. Every option can also be set by its
environment variable or in a --config file; flags win over the environment, which wins over the file.

Options:
`;

interface TlsSource {
  readonly initial: TlsPair;
  /** initial is a stand-in until the real pair arrives (self-bootstrap): not reported as the serving certificate. */
  readonly placeholder?: boolean;
  /** Starts whatever keeps the pair current (reload, bootstrap), handing each new pair to `use`; returns its stop function. */
  start(use: (pair: TlsPair) => void, readiness: Readiness): () => void;
}

async function selfSignedSource(settings: WebhookSettings, logger: Logger): Promise<TlsSource> {
  const bundle = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] });
  const tempDir = settings.caFile === undefined ? mkdtempSync(join(tmpdir(), "tailcar-webhook-")) : undefined;
  const caFile = settings.caFile ?? join(tempDir!, "ca.crt");
  writeFileSync(caFile, bundle.caCert);
  logger.info("self-signed CA written", { caFile });
  process.stderr.write(`tailcar webhook: CA certificate for this server: ${caFile}\n`);
  // At exit however it happens (also when listening fails): the CA is useless without this server.
  if (tempDir !== undefined) process.once("exit", () => rmSync(tempDir, { recursive: true, force: true }));
  return {
    initial: bundle,
    start: (_use, readiness) => {
      readiness.done("tls");
      return () => {};
    },
  };
}

async function fileSource(settings: WebhookSettings, logger: Logger): Promise<TlsSource> {
  const certFile = settings.tlsCert!;
  const keyFile = settings.tlsKey!;
  const initial = await readTlsPair(certFile, keyFile);
  return {
    initial,
    start: (use, readiness) => {
      readiness.done("tls");
      const watcher = watchTlsFiles(certFile, keyFile, initial, {
        pollIntervalMs: settings.tlsReloadIntervalMs,
        onChange: (pair) => {
          use(pair);
          logger.info("TLS certificate reloaded", { certFile });
        },
        onError: (e) => logger.warn("TLS files changed but are not usable yet; still serving the previous certificate", { error: e }),
      });
      return () => watcher.close();
    },
  };
}

const RECHECK_MS = 3_600_000;

async function bootstrapSource(settings: WebhookSettings, logger: Logger): Promise<TlsSource> {
  // Serve /healthz on a throwaway certificate while the real one is bootstrapped, so a slow or
  // failing API server shows as not ready (and in the log) rather than as a crash loop.
  const placeholder = await generateCertBundle({ dnsNames: ["localhost"], validDays: 2 });
  // Imported here, not at the top: the Kubernetes client takes about 2 s to load.
  const { bootstrapTls } = await import("./tls-bootstrap.ts");
  return {
    initial: placeholder,
    placeholder: true,
    start: (use, readiness) => {
      let stopped = false;
      let timer: NodeJS.Timeout | undefined;
      const attempt = async (n: number): Promise<void> => {
        try {
          const bundle = await bootstrapTls(
            { service: settings.service, namespace: settings.namespace, secret: settings.secret, webhookConfig: settings.webhookConfig, ipAddresses: settings.certIps, kubeconfig: settings.kubeconfig },
            logger,
          );
          if (stopped) return;
          use({ cert: bundle.cert, key: bundle.key });
          readiness.done("tls");
          readiness.done("caBundle");
          logger.info("self-bootstrap done; ready");
          // Check again every hour: a pair within 30 days of expiry is replaced (and the caBundle
          // re-patched) without a restart, and a replica picks up the pair another one renewed.
          timer = setTimeout(() => void attempt(1), RECHECK_MS);
          timer.unref();
        } catch (e) {
          const delayMs = Math.min(60_000, 1000 * 2 ** Math.min(n, 6));
          logger.error("self-bootstrap failed; retrying", { error: e, attempt: n, retryInMs: delayMs });
          if (!stopped) timer = setTimeout(() => void attempt(n + 1), delayMs);
        }
      };
      void attempt(1);
      return () => {
        stopped = true;
        clearTimeout(timer);
      };
    },
  };
}

function waitForSignal(logger: Logger): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off("SIGTERM", on);
      process.off("SIGINT", on);
      logger.info("shutting down: finishing in-flight requests", { signal });
      resolve(signal);
    };
    process.on("SIGTERM", on);
    process.on("SIGINT", on);
  });
}

export async function run(argv: readonly string[]): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    process.stdout.write(`${USAGE}${settingsHelp()}\n`);
    return 0;
  }
  let settings: WebhookSettings;
  try {
    settings = parseWebhookSettings(argv);
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    for (const line of e.message.split("\n")) process.stderr.write(`tailcar webhook: ${line}\n`);
    return 2;
  }
  const logger = createLogger();
  const sidecarMode = await resolveSidecarMode(settings.sidecarMode, settings.kubeconfig, logger);
  const version = packageVersion();
  const options = injectOptions({ ...settings.inject, sidecarMode }, version);
  const readiness = new Readiness(settings.selfBootstrap ? ["tls", "caBundle"] : ["tls"]);
  let source: TlsSource;
  try {
    source = settings.selfSigned
      ? await selfSignedSource(settings, logger)
      : settings.selfBootstrap
        ? await bootstrapSource(settings, logger)
        : await fileSource(settings, logger);
  } catch (e) {
    process.stderr.write(`tailcar webhook: ${(e as Error).message}\n`);
    return 1;
  }
  const metrics = createMetrics();
  const app = createApp({ options, version, metrics, logger, readiness });
  const signal = waitForSignal(logger);
  const running = await serve(app, { port: settings.port, address: settings.address, tls: source.initial }, readiness);
  // Every pair served after the first goes through here, so the expiry gauge follows each reload.
  const record = (pair: TlsPair): void => {
    try {
      metrics.certificateInUse(pair.cert);
    } catch (e) {
      logger.warn("could not read the serving certificate's expiry; its metric keeps the previous value", { error: e });
    }
  };
  if (source.placeholder !== true) record(source.initial);
  const stopSource = source.start((pair) => {
    running.server.setSecureContext(pair);
    record(pair);
  }, readiness);
  // The default endpoint may carry user:password@ (sent by the sidecars as basic auth): never print it.
  const shownOptions = options.forwardEndpoint === undefined ? options : { ...options, forwardEndpoint: redactCredentials(options.forwardEndpoint) };
  logger.info("listening", { port: running.port, address: settings.address || "*", sidecarMode, injectOptions: shownOptions });
  const hasApiAccess = settings.selfBootstrap || settings.kubeconfig !== undefined || Boolean(process.env["KUBERNETES_SERVICE_HOST"]);
  const reporter = settings.reportMissedPods && hasApiAccess
    ? (await import("./missed-pods.ts")).startMissedPodReporter({ kubeconfig: settings.kubeconfig, logger, registry: metrics.registry, intervalMs: settings.missedPodsIntervalMs, injectOptions: options })
    : undefined;
  await signal;
  reporter?.stop();
  stopSource();
  await running.close(settings.shutdownGraceMs);
  logger.info("stopped");
  return 0;
}

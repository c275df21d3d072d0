// The webhook's Prometheus metrics, on a Registry of its own (never the global one, so several
// servers in one process, as in tests, do not collide). Names carry their unit.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { ADMISSION_RESULTS } from "./admit.ts";
import { notAfterSeconds } from "./certs.ts";

export const CERTIFICATE_EXPIRY_METRIC = "tailcar_webhook_certificate_expiry_timestamp_seconds";

export interface WebhookMetrics {
  readonly registry: Registry;
  readonly requests: Counter<"result">;
  readonly skipped: Counter<"reason">;
  readonly sidecarsInjected: Counter;
  readonly warnings: Counter;
  readonly duration: Histogram<"result">;
  /**
   * Records the serving certificate now in use (the first in a PEM chain): its notAfter becomes the
   * expiry gauge. The gauge is registered at the first call, so before it the metric is absent rather
   * than 0 (an unset gauge reads 0, which an expiry alert would take for a certificate long expired),
   * and a placeholder served while self-bootstrap runs is never reported. Throws on a PEM that is not
   * a certificate, leaving the gauge as it was.
   */
  certificateInUse(certPem: string): void;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): WebhookMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  let certificateExpiry: Gauge | undefined;
  const metrics: WebhookMetrics = {
    registry,
    requests: new Counter({
      name: "tailcar_webhook_admission_requests_total",
      help: "Admission requests by result: injected, skipped (a pod with nothing to inject), ignored (not a Pod CREATE), invalid (HTTP 4xx), error (injection failed; pod admitted unchanged)",
      labelNames: ["result"],
      registers: [registry],
    }),
    skipped: new Counter({
      name: "tailcar_webhook_pods_skipped_total",
      help: "Pod CREATE requests not injected, by reason",
      labelNames: ["reason"],
      registers: [registry],
    }),
    sidecarsInjected: new Counter({
      name: "tailcar_webhook_sidecars_injected_total",
      help: "Sidecar containers injected (dry-run requests not counted)",
      registers: [registry],
    }),
    warnings: new Counter({
      name: "tailcar_webhook_admission_warnings_total",
      help: "Warnings returned to clients in AdmissionReview responses",
      registers: [registry],
    }),
    duration: new Histogram({
      name: "tailcar_webhook_admission_duration_seconds",
      help: "Time to answer an admission request, from body parsed to response written",
      labelNames: ["result"],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers: [registry],
    }),
    certificateInUse(certPem) {
      const seconds = notAfterSeconds(certPem);
      certificateExpiry ??= new Gauge({
        name: CERTIFICATE_EXPIRY_METRIC,
        help: "When the serving certificate in use expires (its notAfter), in seconds since the Unix epoch; follows every reload and renewal",
        registers: [registry],
      });
      certificateExpiry.set(seconds);
    },
  };
  // Every result appears from the start (at 0), so rate() queries work before the first event.
  for (const result of ADMISSION_RESULTS) metrics.requests.inc({ result }, 0);
  return metrics;
}

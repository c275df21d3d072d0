// tailcar_webhook_certificate_expiry_timestamp_seconds: the notAfter of the certificate being served,
// absent before one is (and while self-bootstrap serves its placeholder), and following a reload of
// the TLS files in the running command.
import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { generateCertBundle } from "../../webhook/certs.ts";
import { CERTIFICATE_EXPIRY_METRIC, createMetrics } from "../../webhook/metrics.ts";
import { CLI, metricValue, startWebhook } from "../../localcluster/webhook-process.ts";
import { tempDir } from "../sidecar/harness.ts";
import { apiStandIn } from "./api-stand-in.ts";
import { call } from "./https-helpers.ts";

const notAfter = (pem: string): number => new X509Certificate(pem).validToDate.getTime() / 1000;
const cliMissing = !existsSync(CLI) && "run npm run build first";

test("the certificate expiry gauge is absent until a certificate is recorded, then holds its notAfter (the leaf's, for a chain)", async () => {
  const metrics = createMetrics({ processMetrics: false });
  assert.equal(metricValue(await metrics.registry.metrics(), CERTIFICATE_EXPIRY_METRIC), undefined, "no value (an unset gauge would read 0: expired) before a certificate is served");
  const bundle = await generateCertBundle({ dnsNames: ["localhost"], validDays: 10 });
  metrics.certificateInUse(`${bundle.cert.trimEnd()}\n${bundle.caCert}`);
  assert.equal(metricValue(await metrics.registry.metrics(), CERTIFICATE_EXPIRY_METRIC), notAfter(bundle.cert));
  assert.notEqual(notAfter(bundle.cert), notAfter(bundle.caCert), "the CA's expiry differs, so the leaf was read");
  assert.throws(() => metrics.certificateInUse("not a certificate"));
  assert.equal(metricValue(await metrics.registry.metrics(), CERTIFICATE_EXPIRY_METRIC), notAfter(bundle.cert), "a bad PEM leaves the value as it was");
});

test("tailcar webhook --tls-cert: the expiry metric is the served certificate's, and follows a reload of the files", { skip: cliMissing, timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, "tailcar-cert-metric-");
  const [first, second] = await Promise.all([10, 40].map((validDays) => generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], validDays })));
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  writeFileSync(certFile, first!.cert);
  writeFileSync(keyFile, first!.key);
  const webhook = await startWebhook(["--tls-cert", certFile, "--tls-key", keyFile, "--tls-reload-interval", "200ms", "--sidecar-mode", "native"]);
  t.after(() => webhook.cleanup());
  const before = await call(webhook.port, first!.caCert, "GET", "/metrics");
  assert.equal(before.status, 200);
  assert.equal(metricValue(before.text, CERTIFICATE_EXPIRY_METRIC), notAfter(first!.cert));
  writeFileSync(keyFile, second!.key);
  writeFileSync(certFile, second!.cert);
  await webhook.waitForLog("TLS certificate reloaded", (l) => l.msg === "TLS certificate reloaded");
  const after = await call(webhook.port, second!.caCert, "GET", "/metrics");
  assert.equal(metricValue(after.text, CERTIFICATE_EXPIRY_METRIC), notAfter(second!.cert));
  assert.ok(notAfter(second!.cert) - notAfter(first!.cert) > 29 * 86400);
});

test("tailcar webhook --self-bootstrap: no expiry is reported for the placeholder it serves until bootstrap succeeds (its 2 days would fire the critical alert)", { skip: cliMissing, timeout: 60_000 }, async (t) => {
  const dir = tempDir(t, "tailcar-cert-metric-");
  const api = await apiStandIn("unavailable");
  t.after(() => api.close());
  writeFileSync(join(dir, "kubeconfig"), api.kubeconfig);
  const webhook = await startWebhook(["--self-bootstrap", "--kubeconfig", join(dir, "kubeconfig"), "--sidecar-mode", "native", "--no-report-missed-pods"], { waitReady: false });
  t.after(() => webhook.cleanup());
  await webhook.waitForLog("self-bootstrap failed", (l) => l.msg === "self-bootstrap failed; retrying");
  const page = await webhook.get("/metrics");
  assert.equal(page.status, 200);
  assert.match(page.body, /tailcar_webhook_admission_requests_total/);
  assert.equal(metricValue(page.body, CERTIFICATE_EXPIRY_METRIC), undefined);
});

// The serving certificate against each webhook's caBundle, its names and its days left, with real
// certificates made by the webhook's own generator.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { generateCertBundle, serviceDnsNames, type CertBundle } from "../../../webhook/certs.ts";
import { checkServingCert, expectedName, renewalFix, servingSecretName } from "../../../webhook/check/certificate.ts";
import type { WebhookConfigView, WebhookTarget } from "../../../webhook/check/installation.ts";

const DAY = 86_400_000;
const target: WebhookTarget = { kind: "service", namespace: "tailcar-system", name: "tailcar-webhook", port: 443 };
const b64 = (pem: string): string => Buffer.from(pem).toString("base64");
const config = (...caBundles: (string | undefined)[]): WebhookConfigView =>
  ({ webhooks: caBundles.map((ca, i) => ({ name: `w${i}`, clientConfig: { service: { name: "tailcar-webhook", namespace: "tailcar-system" }, ...(ca !== undefined && { caBundle: ca }) } })) });
const byId = (results: { id: string; status: string }[]): Record<string, string> => Object.fromEntries(results.map((r) => [r.id, r.status]));

let good: CertBundle;
let other: CertBundle;
before(async () => {
  good = await generateCertBundle({ dnsNames: serviceDnsNames("tailcar-webhook", "tailcar-system") });
  other = await generateCertBundle({ dnsNames: ["elsewhere"] });
});

test("a caBundle holding the CA verifies the certificate, also beside an older CA; names and 365 days pass", () => {
  const results = checkServingCert(config(b64(good.caCert), b64(`${other.caCert}\n${good.caCert}`)), target, { source: "Secret s", chainPem: good.cert }, "fix");
  assert.deepEqual(byId(results), { "ca-bundle": "ok", "certificate-name": "ok", "certificate-expiry": "ok" });
  assert.match(results[2]!.message, /valid for 36[45] more days/);
});

test("a caBundle of another CA, or none, fails naming the webhook and carrying the fix", () => {
  const results = checkServingCert(config(b64(good.caCert), b64(other.caCert), undefined), target, { source: "Secret s", chainPem: good.cert }, "restart it");
  const bundle = results.find((r) => r.id === "ca-bundle")!;
  assert.equal(bundle.status, "fail");
  assert.match(bundle.message, /webhook w1, w2 does not verify/);
  assert.equal(bundle.fix, "restart it");
});

test("a certificate without the Service's DNS name fails; for a URL the host (an IP SAN) is what must be named", async () => {
  assert.equal(byId(checkServingCert(config(b64(other.caCert)), target, { source: "s", chainPem: other.cert }, "f"))["certificate-name"], "fail");
  const ip = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"] });
  for (const url of ["https://127.0.0.1:8443/mutate", "https://[::1]:8443/mutate", "https://localhost/mutate"]) {
    assert.equal(byId(checkServingCert(config(b64(ip.caCert)), { kind: "url", url }, { source: url, chainPem: ip.cert }, "f"))["certificate-name"], "ok", url);
  }
  assert.equal(expectedName({ kind: "url", url: "https://[0:0::1]:1/" }), "IP:::1");
});

test("days to expiry: within 30 days warns, past the end or before the start fails", () => {
  const at = (days: number) => byId(checkServingCert(config(b64(good.caCert)), target, { source: "s", chainPem: good.cert }, "f", new Date(Date.now() + days * DAY)))["certificate-expiry"];
  assert.equal(at(0), "ok");
  assert.equal(at(340), "warn");
  assert.equal(at(366), "fail");
  assert.equal(at(-2), "fail");
});

test("no certificate in the text fails", () => {
  assert.equal(checkServingCert(config(b64(good.caCert)), target, { source: "s", chainPem: "nothing" }, "f")[0]!.status, "fail");
});

test("the Secret served from: the Secret volume at --tls-cert's directory (cert-manager), else --secret's variable (self-bootstrap), else that setting's default", () => {
  const spec = (env: { name: string; value: string }[], more: object = {}) => ({ containers: [{ name: "webhook", env, volumeMounts: [{ name: "tls", mountPath: "/etc/tailcar/tls" }] }], ...more });
  assert.equal(servingSecretName(spec([{ name: "TAILCAR_WEBHOOK_TLS_CERT", value: "/etc/tailcar/tls/tls.crt" }], { volumes: [{ name: "tls", secret: { secretName: "issued" } }] })), "issued");
  assert.equal(servingSecretName(spec([{ name: "TAILCAR_WEBHOOK_SECRET", value: "mine" }])), "mine");
  assert.equal(servingSecretName(spec([])), "tailcar-webhook-tls");
  assert.equal(servingSecretName(undefined), "tailcar-webhook-tls");
});

test("the fix names what writes the caBundle: cert-manager's cainjector, the self-bootstrapping webhook, or the user for a URL", () => {
  assert.match(renewalFix({ metadata: { annotations: { "cert-manager.io/inject-ca-from": "tailcar-system/tailcar-webhook" } } }, target, undefined), /cainjector.*tailcar-system\/tailcar-webhook/);
  assert.match(renewalFix({}, target, "deployment/tw"), /kubectl -n tailcar-system rollout restart deployment\/tw/);
  assert.match(renewalFix({}, { kind: "url", url: "https://x" }, undefined), /clientConfig\.caBundle/);
});

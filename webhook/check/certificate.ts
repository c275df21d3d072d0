// The serving certificate against the caBundle the API server trusts: each webhook's caBundle
// verifies it, it names the host the API server calls, and how long it has left. The certificate
// comes from the webhook itself over TLS (a URL the check can reach) or from the Secret the
// webhook serves from (self-bootstrap writes it; cert-manager issues it; both name it in the
// Deployment, which servingSecretName reads).
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { pemCertificates, RENEW_BEFORE_MS, subjectAltNames } from "../certs.ts";
import type { Container, PodSpec } from "../pod-types.ts";
import { WEBHOOK_ROWS } from "../webhook-rows.ts";
import { INSTALLATION, type WebhookConfigView, type WebhookTarget } from "./installation.ts";
import { fail, ok, warn, type CheckResult } from "./result.ts";

const DAY_MS = 86_400_000;
const row = (key: string) => WEBHOOK_ROWS.find((r) => r.key === key)!;
const SECRET_ROW = row("secret");
const TLS_CERT_ENV = row("tlsCert").env!;
/** cert-manager's cainjector writes the caBundle of a configuration carrying this annotation. */
export const CERT_MANAGER_CA_ANNOTATION = "cert-manager.io/inject-ca-from";

function literalEnv(container: Container, name: string): string | undefined {
  return container.env?.find((e) => e.name === name && e.valueFrom === undefined)?.value;
}

/**
 * The Secret the webhook serves from: the Secret volume mounted where its --tls-cert file is
 * (cert-manager), else its --secret variable (self-bootstrap), else that setting's default.
 */
export function servingSecretName(spec: PodSpec | undefined): string {
  for (const container of spec?.containers ?? []) {
    const certFile = literalEnv(container, TLS_CERT_ENV);
    if (certFile !== undefined) {
      const mount = (container.volumeMounts ?? []).filter((m) => certFile.startsWith(`${m.mountPath.replace(/\/+$/, "")}/`)).sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
      const volume = spec?.volumes?.find((v) => v.name === mount?.name) as { secret?: { secretName?: string } } | undefined;
      if (volume?.secret?.secretName !== undefined) return volume.secret.secretName;
    }
    const named = literalEnv(container, SECRET_ROW.env!);
    if (named !== undefined) return named;
  }
  return SECRET_ROW.default as string;
}

/** The name the API server checks the certificate against: the Service's DNS name, or the URL's host. */
export function expectedName(target: WebhookTarget): string {
  if (target.kind === "service") return `DNS:${target.name}.${target.namespace}.svc`;
  // URL writes an IPv6 host compressed and in lower case, as subjectAltNames does.
  const host = new URL(target.url).hostname.replace(/^\[|\]$/g, "");
  return isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`;
}

/** Whether `leaf` chains to one of `cas`, directly or through the intermediates served with it. */
function verifiedBy(leaf: X509Certificate, intermediates: readonly X509Certificate[], cas: readonly X509Certificate[]): boolean {
  const signs = (issuer: X509Certificate, cert: X509Certificate): boolean => cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  let current = leaf;
  for (let depth = 0; depth <= intermediates.length; depth++) {
    if (cas.some((ca) => signs(ca, current))) return true;
    const next = intermediates.find((i) => i !== current && signs(i, current));
    if (next === undefined) return false;
    current = next;
  }
  return false;
}

function parseAll(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    try {
      out.push(new X509Certificate(pem));
    } catch {
      // Not a certificate: it verifies nothing.
    }
  }
  return out;
}

export interface ServingCert {
  /** Where it came from, for messages: "Secret tailcar-system/tailcar-webhook-tls", "https://127.0.0.1:8443". */
  readonly source: string;
  /** PEM: the serving certificate first, then any intermediates. */
  readonly chainPem: string;
}

/** What renews the certificate and writes the caBundle, for the fixes. */
export function renewalFix(config: WebhookConfigView, target: WebhookTarget, deployment: string | undefined): string {
  const from = config.metadata?.annotations?.[CERT_MANAGER_CA_ANNOTATION];
  if (from !== undefined) return `cert-manager's cainjector writes the caBundle from Certificate ${from}: check it is Ready (kubectl get certificate -A) and that cainjector runs`;
  if (target.kind === "url") return "write the CA that signed the webhook's certificate (base64 PEM) into each webhook's clientConfig.caBundle";
  return `the webhook (--self-bootstrap) renews its certificate and patches the caBundle at start-up and every hour: kubectl -n ${target.namespace} rollout restart ${deployment ?? "deployment/tailcar-webhook"}, then look for "self-bootstrap failed" in its log`;
}

export function checkServingCert(config: WebhookConfigView, target: WebhookTarget, cert: ServingCert, fix: string, now = new Date()): CheckResult[] {
  const chain = parseAll(pemCertificates(cert.chainPem));
  const leaf = chain[0];
  if (leaf === undefined) return [fail(INSTALLATION, "serving-certificate", `${cert.source}: no certificate found`, fix)];
  const results: CheckResult[] = [];
  const unverified = (config.webhooks ?? []).filter((w) => {
    const bundle = w.clientConfig.caBundle === undefined ? "" : Buffer.from(w.clientConfig.caBundle, "base64").toString("utf8");
    return !verifiedBy(leaf, chain.slice(1), parseAll(pemCertificates(bundle)));
  });
  if (unverified.length > 0) {
    results.push(fail(INSTALLATION, "ca-bundle", `the caBundle of webhook ${unverified.map((w) => w.name).join(", ")} does not verify the serving certificate from ${cert.source} (issued by ${leaf.issuer.replaceAll("\n", ", ")}): the API server cannot call the webhook`, fix));
  } else {
    results.push(ok(INSTALLATION, "ca-bundle", `the caBundle of every webhook verifies the serving certificate from ${cert.source}`));
  }
  const wanted = expectedName(target);
  const names = subjectAltNames(leaf.toString());
  if (!names.includes(wanted)) {
    results.push(fail(INSTALLATION, "certificate-name", `the serving certificate does not name ${wanted.replace(/^(DNS|IP):/, "")}, which the API server calls (it names ${names.join(", ") || "nothing"})`, fix));
  } else {
    results.push(ok(INSTALLATION, "certificate-name", `the serving certificate names ${wanted.replace(/^(DNS|IP):/, "")}`));
  }
  const notAfter = Date.parse(leaf.validTo);
  const days = Math.floor((notAfter - now.getTime()) / DAY_MS);
  const until = new Date(notAfter).toISOString().slice(0, 10);
  if (notAfter <= now.getTime()) results.push(fail(INSTALLATION, "certificate-expiry", `the serving certificate expired on ${until}`, fix));
  else if (Date.parse(leaf.validFrom) > now.getTime()) results.push(fail(INSTALLATION, "certificate-expiry", `the serving certificate is not valid before ${leaf.validFrom}`, fix));
  else if (notAfter - now.getTime() < RENEW_BEFORE_MS) {
    results.push(warn(INSTALLATION, "certificate-expiry", `the serving certificate expires in ${days} days (${until}), within the ${RENEW_BEFORE_MS / DAY_MS} days it should have been renewed in`, fix));
  } else results.push(ok(INSTALLATION, "certificate-expiry", `the serving certificate is valid for ${days} more days (until ${until})`));
  return results;
}

// A private CA and a serving certificate signed by it, generated with selfsigned (ECDSA P-256:
// fast to generate, accepted by the API server), and the checks that decide whether a stored pair
// can be reused. The CA's private key is never kept: renewing means a new CA and a new caBundle.
import { X509Certificate, createPrivateKey } from "node:crypto";
import { isIP } from "node:net";

export interface CertBundle {
  /** PEM of the CA that signed cert: what goes into a caBundle or a client's trust store. */
  readonly caCert: string;
  readonly cert: string;
  readonly key: string;
}

export interface CertRequest {
  readonly dnsNames: readonly string[];
  readonly ipAddresses?: readonly string[];
  readonly validDays?: number;
  readonly now?: Date;
}

const DAY_MS = 86_400_000;
/** A stored certificate this close to its end is replaced rather than reused. */
export const RENEW_BEFORE_MS = 30 * DAY_MS;
// The API server and this pod may not agree on the time to the second.
const CLOCK_SKEW_MS = 3_600_000;

/** The names a client uses for a Service: short, namespaced, .svc and .svc.cluster.local. */
export function serviceDnsNames(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

export async function generateCertBundle(request: CertRequest): Promise<CertBundle> {
  const [commonName] = request.dnsNames;
  if (commonName === undefined) throw new Error("a serving certificate needs at least one DNS name");
  for (const ip of request.ipAddresses ?? []) {
    if (isIP(ip) === 0) throw new Error(`"${ip}" is not an IP address (for a certificate IP SAN)`);
  }
  const now = request.now ?? new Date();
  const notBeforeDate = new Date(now.getTime() - CLOCK_SKEW_MS);
  const validDays = request.validDays ?? 365;
  // Imported on use: half a second of start-up that a server on mounted cert files never needs.
  const { generate } = await import("selfsigned");
  const ca = await generate([{ name: "commonName", value: `tailcar-webhook-ca@${Math.floor(now.getTime() / 1000)}` }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    // The CA outlives the certificate by a day, so the pair expires as one.
    notAfterDate: new Date(now.getTime() + (validDays + 1) * DAY_MS),
    extensions: [
      { name: "basicConstraints", cA: true, pathLenConstraint: 0, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate: new Date(now.getTime() + validDays * DAY_MS),
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [
          ...request.dnsNames.map((value) => ({ type: 2 as const, value })),
          ...(request.ipAddresses ?? []).map((ip) => ({ type: 7 as const, ip })),
        ],
      },
    ],
  });
  return { caCert: ca.cert, cert: leaf.cert, key: leaf.private };
}

/** PEM certificates in a bundle, in order. */
export function pemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
}

/** One spelling per address: OpenSSL prints IPv6 SANs expanded and in capitals ("0:0:0:0:0:0:0:1"). */
function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** The SAN entries of a PEM certificate, as "DNS:x" / "IP:y" strings. */
export function subjectAltNames(certPem: string): string[] {
  const san = new X509Certificate(certPem).subjectAltName ?? "";
  return san
    .split(",")
    .map((s) => s.trim())
    .map((s) => (s.startsWith("IP Address:") ? `IP:${canonicalIp(s.slice("IP Address:".length))}` : s))
    .filter((s) => s.length > 0);
}

/** When a PEM certificate (the first of a chain) expires, in seconds since the Unix epoch. */
export function notAfterSeconds(certPem: string): number {
  return new X509Certificate(certPem).validToDate.getTime() / 1000;
}

/**
 * Why a stored bundle cannot be reused for these names at this time, or undefined if it can:
 * unparsable, key not matching, not signed by its CA, names missing, or near expiry.
 */
export function bundleProblem(bundle: CertBundle, request: CertRequest): string | undefined {
  const now = (request.now ?? new Date()).getTime();
  let cert: X509Certificate;
  let ca: X509Certificate;
  try {
    cert = new X509Certificate(bundle.cert);
    ca = new X509Certificate(bundle.caCert);
  } catch (e) {
    return `a certificate does not parse: ${(e as Error).message}`;
  }
  try {
    if (!cert.checkPrivateKey(createPrivateKey(bundle.key))) return "the private key does not match the certificate";
  } catch (e) {
    return `the private key does not parse: ${(e as Error).message}`;
  }
  if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return "the certificate is not signed by the CA stored with it";
  const sans = new Set(subjectAltNames(bundle.cert));
  const wanted = [...request.dnsNames.map((n) => `DNS:${n}`), ...(request.ipAddresses ?? []).map((ip) => `IP:${canonicalIp(ip)}`)];
  const missing = wanted.filter((w) => !sans.has(w));
  if (missing.length > 0) return `the certificate lacks ${missing.join(", ")}`;
  const notAfter = Math.min(Date.parse(cert.validTo), Date.parse(ca.validTo));
  if (notAfter - now < RENEW_BEFORE_MS) return `the certificate expires ${new Date(notAfter).toISOString()}, within the renewal window`;
  if (Date.parse(cert.validFrom) > now + CLOCK_SKEW_MS) return `the certificate is not valid before ${cert.validFrom}`;
  return undefined;
}

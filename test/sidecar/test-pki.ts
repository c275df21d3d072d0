// A private CA made by the test, a server certificate for 127.0.0.1 and a client certificate, both
// signed by it, and a second CA that signed neither (the wrong CA bundle). ECDSA P-256, made with
// selfsigned (already a dependency: the webhook's own TLS bootstrap).
import { generate } from "selfsigned";

export interface Pki {
  readonly caCert: string;
  readonly serverCert: string;
  readonly serverKey: string;
  readonly clientCert: string;
  readonly clientKey: string;
  /** A CA that signed nothing here. */
  readonly otherCaCert: string;
}

const DAY_MS = 86_400_000;

async function ca(name: string): Promise<{ cert: string; private: string }> {
  return generate([{ name: "commonName", value: name }], {
    keyType: "ec",
    algorithm: "sha256",
    notBeforeDate: new Date(Date.now() - DAY_MS),
    notAfterDate: new Date(Date.now() + 2 * DAY_MS),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
}

export async function makePki(): Promise<Pki> {
  const root = await ca("tailcar-test-ca");
  const other = await ca("tailcar-other-ca");
  const leaf = (commonName: string, usage: { serverAuth?: boolean; clientAuth?: boolean }) =>
    generate([{ name: "commonName", value: commonName }], {
      keyType: "ec",
      algorithm: "sha256",
      notBeforeDate: new Date(Date.now() - DAY_MS),
      notAfterDate: new Date(Date.now() + DAY_MS),
      ca: { key: root.private, cert: root.cert },
      extensions: [
        { name: "basicConstraints", cA: false, critical: true },
        { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
        { name: "extKeyUsage", ...usage },
        ...(usage.serverAuth ? [{ name: "subjectAltName" as const, altNames: [{ type: 7 as const, ip: "127.0.0.1" }, { type: 2 as const, value: "localhost" }] }] : []),
      ],
    });
  const server = await leaf("127.0.0.1", { serverAuth: true });
  const client = await leaf("tailcar-sidecar", { clientAuth: true });
  return { caCert: root.cert, serverCert: server.cert, serverKey: server.private, clientCert: client.cert, clientKey: client.private, otherCaCert: other.cert };
}

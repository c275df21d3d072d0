// A throwaway PKI for one control plane: a CA, the apiserver's serving certificate (IP SAN 127.0.0.1),
// client certificates, and the service-account signing key. EC P-256 keys: fast to make, accepted by Go.
import { generateKeyPairSync } from "node:crypto";
import { generate } from "selfsigned";

export interface KeyPairPEM {
  readonly cert: string;
  readonly key: string;
}

export interface ControlPlanePKI {
  readonly ca: KeyPairPEM;
  readonly apiserverServing: KeyPairPEM;
  /** CN=admin, O=system:masters: full access through RBAC's built-in binding. */
  readonly admin: KeyPairPEM;
  /** O=system:masters too: with --use-service-account-credentials=false it acts for every controller. */
  readonly controllerManager: KeyPairPEM;
  /** The apiserver's client certificate towards kubelets (O=system:masters: kubelets authorize it by webhook). */
  readonly kubeletClient: KeyPairPEM;
  readonly serviceAccount: { readonly publicKey: string; readonly privateKey: string };
}

const VALID_DAYS = 7;

function validity(): { notBeforeDate: Date; notAfterDate: Date } {
  // Back-dated a minute so clock granularity never makes a fresh certificate "not yet valid".
  const notBeforeDate = new Date(Date.now() - 60_000);
  return { notBeforeDate, notAfterDate: new Date(notBeforeDate.getTime() + VALID_DAYS * 86_400_000) };
}

export async function createCA(commonName = "tailcar-e2e-ca"): Promise<KeyPairPEM> {
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keyType: "ec",
    algorithm: "sha256",
    ...validity(),
    extensions: [
      { name: "basicConstraints", cA: true, critical: true },
      { name: "keyUsage", keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A server certificate signed by `ca`, valid for the given IPs and DNS names (e.g. for a webhook). */
export async function issueServingCert(
  ca: KeyPairPEM,
  names: { readonly ips?: readonly string[]; readonly dns?: readonly string[]; readonly commonName?: string },
): Promise<KeyPairPEM> {
  const ips = names.ips ?? ["127.0.0.1"];
  const dns = names.dns ?? ["localhost"];
  const pems = await generate([{ name: "commonName", value: names.commonName ?? dns[0] ?? ips[0] ?? "server" }], {
    keyType: "ec",
    algorithm: "sha256",
    ...validity(),
    ca: { cert: ca.cert, key: ca.key },
    extensions: [
      { name: "basicConstraints", cA: false, critical: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, critical: true },
      { name: "extKeyUsage", serverAuth: true },
      {
        name: "subjectAltName",
        altNames: [...dns.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))],
      },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/** A client certificate: the apiserver takes CN as the user name and each O as a group. */
export async function issueClientCert(ca: KeyPairPEM, user: string, groups: readonly string[]): Promise<KeyPairPEM> {
  const pems = await generate(
    [{ name: "commonName", value: user }, ...groups.map((value) => ({ name: "organizationName", value }))],
    {
      keyType: "ec",
      algorithm: "sha256",
      ...validity(),
      ca: { cert: ca.cert, key: ca.key },
      extensions: [
        { name: "basicConstraints", cA: false, critical: true },
        { name: "keyUsage", digitalSignature: true, critical: true },
        { name: "extKeyUsage", clientAuth: true },
      ],
    },
  );
  return { cert: pems.cert, key: pems.private };
}

/** The ClusterIP the API server gives the `kubernetes` Service: the first address of --service-cluster-ip-range (flags.ts). */
export const KUBERNETES_SERVICE_IP = "10.0.0.1";

export async function createControlPlanePKI(): Promise<ControlPlanePKI> {
  const ca = await createCA();
  const [apiserverServing, admin, controllerManager, kubeletClient] = await Promise.all([
    // 10.0.0.1: the `kubernetes` Service's ClusterIP (first of --service-cluster-ip-range), what
    // pods on the real node dial (localcluster/netns.ts routes it to the API server).
    issueServingCert(ca, { ips: ["127.0.0.1", KUBERNETES_SERVICE_IP], dns: ["localhost", "kubernetes", "kubernetes.default.svc"], commonName: "kube-apiserver" }),
    issueClientCert(ca, "admin", ["system:masters"]),
    issueClientCert(ca, "system:kube-controller-manager", ["system:masters"]),
    issueClientCert(ca, "kube-apiserver-kubelet-client", ["system:masters"]),
  ]);
  const sa = generateKeyPairSync("ec", { namedCurve: "P-256" });
  return {
    ca,
    apiserverServing,
    admin,
    controllerManager,
    kubeletClient,
    serviceAccount: {
      publicKey: sa.publicKey.export({ type: "spki", format: "pem" }).toString(),
      privateKey: sa.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    },
  };
}

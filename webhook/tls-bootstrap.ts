// Self-bootstrap: the webhook keeps its CA and serving certificate in a Secret (created, or reused
// while valid) and writes the CA into the caBundle of every webhook of its
// MutatingWebhookConfiguration. The payloads are pure functions; bootstrapTls is the I/O.
import { AdmissionregistrationV1Api, ApiException, CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import type { V1Secret } from "@kubernetes/client-node";
import { X509Certificate } from "node:crypto";
import { bundleProblem, generateCertBundle, pemCertificates, serviceDnsNames, type CertBundle, type CertRequest } from "./certs.ts";
import { errorMessage, type Logger } from "./log.ts";

export interface BootstrapSettings {
  readonly service: string;
  readonly namespace: string;
  readonly secret: string;
  readonly webhookConfig: string;
  readonly ipAddresses: readonly string[];
  /** A kubeconfig file; undefined: in-cluster service account. */
  readonly kubeconfig: string | undefined;
}

export interface JsonPatchOp {
  readonly op: "add" | "test";
  readonly path: string;
  readonly value: unknown;
}

const b64 = (text: string): string => Buffer.from(text, "utf8").toString("base64");
const unb64 = (text: string | undefined): string | undefined => (text === undefined ? undefined : Buffer.from(text, "base64").toString("utf8"));

/** A kubernetes.io/tls Secret holding the pair and its CA (ca.crt, as cert-manager does). */
export function secretFor(name: string, namespace: string, bundle: CertBundle, resourceVersion?: string): V1Secret {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name,
      namespace,
      labels: { "app.kubernetes.io/name": "tailcar", "app.kubernetes.io/component": "webhook" },
      ...(resourceVersion !== undefined ? { resourceVersion } : {}),
    },
    type: "kubernetes.io/tls",
    data: { "tls.crt": b64(bundle.cert), "tls.key": b64(bundle.key), "ca.crt": b64(bundle.caCert) },
  };
}

export function bundleFromSecret(secret: V1Secret): CertBundle | undefined {
  const data = secret.data ?? {};
  const cert = unb64(data["tls.crt"]);
  const key = unb64(data["tls.key"]);
  const caCert = unb64(data["ca.crt"]);
  return cert && key && caCert ? { cert, key, caCert } : undefined;
}

/**
 * The caBundle to write: the current CA first, then up to two CAs already in the bundle that are
 * still valid. During a renewal another replica may still serve the previous certificate for a
 * while; keeping its CA trusted until it expires means the API server never loses that replica.
 * (Their private keys were never stored, so an old CA cannot sign anything new.)
 */
export function mergedCaBundle(existingBase64: string | undefined, caCertPem: string, now = new Date()): string {
  const current = caCertPem.trim();
  const kept = pemCertificates(unb64(existingBase64) ?? "")
    .filter((pem) => pem.trim() !== current)
    .filter((pem) => {
      try {
        return Date.parse(new X509Certificate(pem).validTo) > now.getTime();
      } catch {
        return false;
      }
    })
    .slice(0, 2);
  return [current, ...kept].join("\n") + "\n";
}

interface WebhookConfigView {
  webhooks?: readonly { name: string; clientConfig?: { caBundle?: string } }[];
}

/**
 * JSON Patch setting clientConfig.caBundle on every webhook. Each write is guarded by a "test" of
 * the webhook's name, so a configuration reordered meanwhile fails the patch instead of being
 * patched at the wrong index.
 */
export function caBundlePatch(config: WebhookConfigView, caCertPem: string, now = new Date()): JsonPatchOp[] {
  const webhooks = config.webhooks ?? [];
  if (webhooks.length === 0) throw new Error("the MutatingWebhookConfiguration has no webhooks to give a caBundle to");
  return webhooks.flatMap((w, i) => [
    { op: "test" as const, path: `/webhooks/${i}/name`, value: w.name },
    { op: "add" as const, path: `/webhooks/${i}/clientConfig/caBundle`, value: b64(mergedCaBundle(w.clientConfig?.caBundle, caCertPem, now)) },
  ]);
}

export function certRequestFor(settings: BootstrapSettings, now = new Date()): CertRequest {
  return { dnsNames: serviceDnsNames(settings.service, settings.namespace), ipAddresses: settings.ipAddresses, now };
}

/** The given kubeconfig file; else in-cluster when running in a pod; else KUBECONFIG or ~/.kube/config. */
export function kubeConfigFrom(file: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (file !== undefined) kc.loadFromFile(file);
  else if (process.env["KUBERNETES_SERVICE_HOST"]) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (!kc.getCurrentCluster()) throw new Error("no Kubernetes API server configured: give --kubeconfig FILE, or run in a pod");
  return kc;
}

function statusOf(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

function explain(step: string, e: unknown): Error {
  const body = e instanceof ApiException ? ` (HTTP ${e.code}: ${typeof e.body === "string" ? e.body : JSON.stringify(e.body)})` : "";
  return new Error(`self-bootstrap: ${step} failed: ${errorMessage(e)}${body}`);
}

/** Reads the Secret; reuses its pair when valid, otherwise stores a new one. Two replicas racing converge on one pair. */
async function ensureSecret(core: CoreV1Api, settings: BootstrapSettings, logger: Logger): Promise<CertBundle> {
  const { secret: name, namespace } = settings;
  for (let attempt = 1; attempt <= 5; attempt++) {
    let existing: V1Secret | undefined;
    try {
      existing = await core.readNamespacedSecret({ name, namespace });
    } catch (e) {
      if (statusOf(e) !== 404) throw explain(`reading Secret ${namespace}/${name}`, e);
    }
    const request = certRequestFor(settings);
    const stored = existing && bundleFromSecret(existing);
    const problem = stored ? bundleProblem(stored, request) : "it holds no tls.crt, tls.key and ca.crt";
    if (stored && problem === undefined) {
      logger.info("reusing the certificate stored in the Secret", { secret: `${namespace}/${name}` });
      return stored;
    }
    logger.info("generating a CA and serving certificate", { secret: `${namespace}/${name}`, reason: existing ? problem : "the Secret does not exist", dnsNames: request.dnsNames });
    const bundle = await generateCertBundle(request);
    try {
      if (existing) await core.replaceNamespacedSecret({ name, namespace, body: secretFor(name, namespace, bundle, existing.metadata?.resourceVersion) });
      else await core.createNamespacedSecret({ namespace, body: secretFor(name, namespace, bundle) });
      return bundle;
    } catch (e) {
      // 409: another replica wrote first; read again and use its pair.
      if (statusOf(e) !== 409) throw explain(`writing Secret ${namespace}/${name}`, e);
    }
  }
  throw new Error(`self-bootstrap: Secret ${namespace}/${name} kept changing under us; giving up after 5 attempts`);
}

async function patchCaBundle(api: AdmissionregistrationV1Api, name: string, caCert: string): Promise<number> {
  for (let attempt = 1; attempt <= 5; attempt++) {
    let config;
    try {
      config = await api.readMutatingWebhookConfiguration({ name });
    } catch (e) {
      throw explain(`reading MutatingWebhookConfiguration ${name}`, e);
    }
    const patch = caBundlePatch(config, caCert);
    try {
      await api.patchMutatingWebhookConfiguration({ name, body: patch }, setHeaderOptions("Content-Type", PatchStrategy.JsonPatch));
      return patch.length / 2;
    } catch (e) {
      // 422 from a failed "test": the list changed between read and patch; read it again.
      if (statusOf(e) !== 422 && statusOf(e) !== 409) throw explain(`patching the caBundle of MutatingWebhookConfiguration ${name}`, e);
    }
  }
  throw new Error(`self-bootstrap: MutatingWebhookConfiguration ${name} kept changing; giving up after 5 attempts`);
}

/** Ensures the Secret and the caBundle; returns the pair to serve. */
export async function bootstrapTls(settings: BootstrapSettings, logger: Logger): Promise<CertBundle> {
  const kc = kubeConfigFrom(settings.kubeconfig);
  const bundle = await ensureSecret(kc.makeApiClient(CoreV1Api), settings, logger);
  const patched = await patchCaBundle(kc.makeApiClient(AdmissionregistrationV1Api), settings.webhookConfig, bundle.caCert);
  logger.info("caBundle patched", { webhookConfiguration: settings.webhookConfig, webhooks: patched });
  return bundle;
}

// Registers the MutatingWebhookConfiguration we ship, pointed at a webhook on 127.0.0.1, and waits until
// the apiserver really calls it: the configuration reaches the admission chain asynchronously.
import type { KubernetesObject, V1MutatingWebhookConfiguration, V1Pod } from "@kubernetes/client-node";
import { apiErrorCode, describeApiError, parseObjects, type TestClient } from "./client.ts";
import { pollUntil } from "./poll.ts";

export interface ProbeOptions {
  /** Namespace the probe pod is dry-run created in: one the webhook's namespaceSelector matches. */
  readonly namespace: string;
  /** A pod the webhook mutates (e.g. with the opt-in annotation); created with dryRun=All, never stored. */
  readonly pod: V1Pod;
  /** Whether the apiserver's answer shows the webhook's work. Default: more containers or init containers than sent. */
  readonly isMutated?: (sent: V1Pod, returned: V1Pod) => boolean;
  readonly timeoutMs?: number;
}

export interface RegisteredWebhook {
  readonly configuration: V1MutatingWebhookConfiguration;
  /** Deletes the configuration (ignores "not found"). */
  unregister(): Promise<void>;
}

const containerCount = (pod: V1Pod): number => (pod.spec?.containers.length ?? 0) + (pod.spec?.initContainers?.length ?? 0);

export const addsContainers = (sent: V1Pod, returned: V1Pod): boolean => containerCount(returned) > containerCount(sent);

/**
 * Pure: the configuration from `manifestYAML` (its MutatingWebhookConfiguration document) with every
 * webhook's clientConfig replaced by `url` + `caBundle` and nothing else changed. If `url` has no path,
 * the path of the manifest's service reference is kept, so "https://127.0.0.1:PORT" is enough.
 * caBundlePEM undefined leaves caBundle out: for a webhook that patches its own (self-bootstrap).
 */
export function pointWebhookAt(manifestYAML: string, url: string, caBundlePEM: string | undefined): V1MutatingWebhookConfiguration {
  const found = parseObjects(manifestYAML).filter((o: KubernetesObject) => o.kind === "MutatingWebhookConfiguration");
  if (found.length !== 1) throw new Error(`expected one MutatingWebhookConfiguration in the manifest, found ${found.length}`);
  const config = structuredClone(found[0]) as V1MutatingWebhookConfiguration;
  if (!config.webhooks || config.webhooks.length === 0) throw new Error(`MutatingWebhookConfiguration ${config.metadata?.name}: no webhooks`);
  const caBundle = caBundlePEM === undefined ? undefined : Buffer.from(caBundlePEM).toString("base64");
  const base = new URL(url);
  for (const webhook of config.webhooks) {
    const servicePath = webhook.clientConfig.service?.path;
    const target = new URL(base.href);
    if ((target.pathname === "/" || target.pathname === "") && servicePath) target.pathname = servicePath;
    webhook.clientConfig = caBundle === undefined ? { url: target.href } : { url: target.href, caBundle };
  }
  return config;
}

/** Dry-run creates the probe pod until the answer shows the webhook's work (bounded). */
export async function waitUntilWebhookCalled(client: TestClient, probe: ProbeOptions, what = "the webhook"): Promise<void> {
  const isMutated = probe.isMutated ?? addsContainers;
  await pollUntil(
    `the apiserver to call ${what} (dry-run pod in namespace ${probe.namespace} coming back mutated)`,
    async () => {
      const returned = await client.create<V1Pod>(probe.pod, { namespace: probe.namespace, dryRun: true });
      return isMutated(probe.pod, returned) ? true : undefined;
    },
    { timeoutMs: probe.timeoutMs ?? 30_000, intervalMs: 250 },
  );
}

export async function registerMutatingWebhook(
  client: TestClient,
  manifestYAML: string,
  url: string,
  caBundlePEM: string | undefined,
  probe?: ProbeOptions,
): Promise<RegisteredWebhook> {
  const body = pointWebhookAt(manifestYAML, url, caBundlePEM);
  const name = body.metadata?.name ?? "";
  let configuration: V1MutatingWebhookConfiguration;
  try {
    configuration = await client.admission.createMutatingWebhookConfiguration({ body });
  } catch (e) {
    throw new Error(`register MutatingWebhookConfiguration ${name} failed: ${describeApiError(e)}`);
  }
  const registered: RegisteredWebhook = {
    configuration,
    async unregister() {
      try {
        await client.admission.deleteMutatingWebhookConfiguration({ name });
      } catch (e) {
        if (apiErrorCode(e) !== 404) throw new Error(`delete MutatingWebhookConfiguration ${name} failed: ${describeApiError(e)}`);
      }
    },
  };
  if (probe) {
    try {
      await waitUntilWebhookCalled(client, probe, `webhook ${name} at ${url}`);
    } catch (e) {
      await registered.unregister();
      throw e;
    }
  }
  return registered;
}

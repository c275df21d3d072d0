// A control plane with `tailcar webhook` running from mounted certificate files and registered with
// the MutatingWebhookConfiguration we ship: what the e2e files that inject through the API share.
// If any step fails, what was started before it is stopped again, so a failed start leaves nothing.
import { rmSync } from "node:fs";
import type { V1Pod } from "@kubernetes/client-node";
import { clientFor, registerMutatingWebhook, startControlPlane, type ControlPlane, type TestClient } from "../../localcluster/harness/index.ts";
import { shippedWebhookConfiguration, startWebhook, writeServingCertFiles, type WebhookProcess } from "../../localcluster/webhook-process.ts";

export interface WebhookClusterOptions {
  readonly withControllerManager: boolean;
  /** Namespaces created before the webhook is registered, with their labels. */
  readonly namespaces: Readonly<Record<string, Readonly<Record<string, string>>>>;
  /** Registration creates this pod (dry run) until the webhook answers, so tests start with it serving. */
  readonly probe: { readonly namespace: string; readonly pod: V1Pod };
}

export interface WebhookCluster {
  readonly cp: ControlPlane;
  readonly client: TestClient;
  /** The webhook's arguments (certificate files, --kubeconfig), for a test that restarts it. */
  readonly args: readonly string[];
  /** The running webhook; a test that restarts it puts the new one here, for stop() to end. */
  webhook: WebhookProcess;
  /** Unregisters the webhook and stops it and the control plane. */
  stop(): Promise<void>;
}

export async function startWebhookCluster(options: WebhookClusterOptions): Promise<WebhookCluster> {
  const undo: (() => Promise<unknown> | void)[] = [];
  const stop = async (): Promise<void> => {
    for (let step = undo.pop(); step !== undefined; step = undo.pop()) await step();
  };
  try {
    const cp = await startControlPlane({ withControllerManager: options.withControllerManager });
    undo.push(() => cp.stop());
    const client = clientFor(cp);
    const certs = await writeServingCertFiles(cp.ca);
    undo.push(() => rmSync(certs.dir, { recursive: true, force: true }));
    // --kubeconfig gives the webhook API access: --sidecar-mode auto reads the server's version
    // (1.34: native sidecars), and --report-missed-pods turns on.
    const args = [...certs.args, "--kubeconfig", cp.kubeconfigPath];
    const cluster: WebhookCluster = { cp, client, args, webhook: await startWebhook(args), stop };
    undo.push(() => cluster.webhook.cleanup());
    for (const [name, labels] of Object.entries(options.namespaces)) await client.createNamespace(name, labels);
    const registered = await registerMutatingWebhook(client, shippedWebhookConfiguration(), cluster.webhook.url, cp.caPEM, options.probe);
    undo.push(() => registered.unregister().catch(() => {}));
    return cluster;
  } catch (e) {
    await stop();
    throw e;
  }
}

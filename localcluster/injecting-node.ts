// What each real-node test file starts from: a real node, tailcar's webhook (serving a cert from
// the node's CA, the sidecar image built for the node), reachable from the API server inside the
// node's network namespace, and registered as the shipped configuration for two namespaces: one
// that opted in and one that also enforces Pod Security restricted.
import { rmSync } from "node:fs";
import type { V1Pod } from "@kubernetes/client-node";
import { parseObjects, registerMutatingWebhook } from "./harness/index.ts";
import { SIDECAR_IMAGE } from "./images.ts";
import { startRealNode, type RealNode } from "./node.ts";
import { applicationPodYAML, shippedWebhookConfiguration, startWebhook, writeServingCertFiles, type WebhookProcess } from "./webhook-process.ts";

export interface InjectingNode {
  readonly node: RealNode;
  readonly webhook: WebhookProcess;
  /** Stops the webhook and removes its certificates; the node is the caller's to stop and check. */
  stopWebhook(): Promise<void>;
}

export async function startInjectingNode(namespaces: { readonly enabled: string; readonly restricted: string }): Promise<InjectingNode> {
  const node = await startRealNode();
  let certDir: string | undefined;
  let webhook: WebhookProcess | undefined;
  const stopWebhook = async (): Promise<void> => {
    await webhook?.cleanup();
    if (certDir) rmSync(certDir, { recursive: true, force: true });
  };
  try {
    const certs = await writeServingCertFiles(node.cp.ca);
    certDir = certs.dir;
    webhook = await startWebhook([...certs.args, "--kubeconfig", node.cp.kubeconfigPath, "--image", SIDECAR_IMAGE]);
    // The API server runs in the node's network namespace: it reaches the webhook through the bridge.
    await node.exposeToNode(webhook.port);
    await node.client.createNamespace(namespaces.enabled, { "tailcar.io/injection": "enabled" });
    await node.client.createNamespace(namespaces.restricted, { "tailcar.io/injection": "enabled", "pod-security.kubernetes.io/enforce": "restricted" });
    const probe = parseObjects(applicationPodYAML())[0] as V1Pod;
    await registerMutatingWebhook(node.client, shippedWebhookConfiguration(), webhook.url, node.cp.caPEM, { namespace: namespaces.enabled, pod: probe });
    return { node, webhook, stopWebhook };
  } catch (e) {
    await stopWebhook();
    await node.stop();
    throw e;
  }
}

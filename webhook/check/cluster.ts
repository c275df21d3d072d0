// The I/O of `tailcar check`: the objects the checks judge, read with @kubernetes/client-node
// (imported only by this file, which command.ts loads only for a check against a cluster: the
// client takes about 2 s to load), and the certificate a webhook URL serves. Every request is bounded.
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import {
  AdmissionregistrationV1Api, ApiException, AppsV1Api, BatchV1Api, CoreV1Api, DiscoveryV1Api, KubeConfig, Observable,
  type ConfigurationOptions, type RequestContext, type ResponseContext, type V1Pod,
} from "@kubernetes/client-node";
import type { Pod } from "../pod-types.ts";

export interface ClusterOptions {
  readonly kubeconfig: string | undefined;
  readonly context: string | undefined;
  readonly requestTimeoutMs: number;
}

/** An API error in one line: "403 Forbidden: secrets "x" is forbidden: …". */
export function describeError(e: unknown): string {
  if (e instanceof ApiException) {
    let body: unknown = e.body;
    if (typeof e.body === "string") {
      const text = e.body;
      try {
        body = JSON.parse(text);
      } catch {
        return `HTTP ${e.code}: ${text.slice(0, 300)}`;
      }
    }
    const status = body as { reason?: string; message?: string } | undefined;
    return `HTTP ${e.code}${status?.reason ? ` ${status.reason}` : ""}: ${status?.message ?? "no message"}`;
  }
  const error = e as { name?: string; message?: string; cause?: { message?: string; code?: string } };
  // The request's AbortSignal.timeout fired (node-fetch reports it as an AbortError).
  if (error.name === "AbortError" || error.name === "TimeoutError") return "no answer within --request-timeout";
  const cause = error.cause?.code ?? error.cause?.message;
  return `${error.message ?? String(e)}${cause && !String(error.message).includes(cause) ? ` (${cause})` : ""}`;
}

export const isNotFound = (e: unknown): boolean => e instanceof ApiException && e.code === 404;
export const isForbidden = (e: unknown): boolean => e instanceof ApiException && (e.code === 401 || e.code === 403);

export function loadKubeConfig(options: ClusterOptions): KubeConfig {
  const kc = new KubeConfig();
  const file = options.kubeconfig ?? process.env["KUBECONFIG"];
  const inPod = Boolean(process.env["KUBERNETES_SERVICE_HOST"]);
  // Without any of them loadFromDefault falls back to http://localhost:8080 without a word.
  if (!file && !existsSync(join(homedir(), ".kube", "config")) && !inPod) throw new Error("no kubeconfig: give --kubeconfig FILE, set KUBECONFIG, or create ~/.kube/config");
  try {
    if (options.kubeconfig !== undefined) kc.loadFromFile(options.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new Error(`kubeconfig${file ? ` ${file}` : ""}: ${(e as Error).message}`);
  }
  if (options.context !== undefined) {
    const known = kc.getContexts().map((c) => c.name);
    if (!known.includes(options.context)) throw new Error(`--context ${options.context}: no such context in the kubeconfig (it has ${known.join(", ") || "none"})`);
    kc.setCurrentContext(options.context);
  }
  if (!kc.getCurrentCluster()) throw new Error("no Kubernetes API server configured: give --kubeconfig FILE or set KUBECONFIG");
  return kc;
}

/** Per-request options that abort a request still unanswered after `ms`. */
function bounded(ms: number): ConfigurationOptions {
  // The object API takes the generated client's Observable middleware (a promise wrapped).
  return {
    middleware: [{
      pre: (context: RequestContext) => {
        context.setSignal(AbortSignal.timeout(ms));
        return new Observable(Promise.resolve(context));
      },
      post: (response: ResponseContext) => new Observable(Promise.resolve(response)),
    }],
    middlewareMergeStrategy: "append",
  };
}

/** undefined for a 404; other errors are thrown. */
async function orAbsent<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

export function connectCluster(options: ClusterOptions) {
  const kc = loadKubeConfig(options);
  const core = kc.makeApiClient(CoreV1Api);
  const apps = kc.makeApiClient(AppsV1Api);
  const batch = kc.makeApiClient(BatchV1Api);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const admission = kc.makeApiClient(AdmissionregistrationV1Api);
  const o = bounded(options.requestTimeoutMs);
  return {
    target: `context ${kc.getCurrentContext()} (${kc.getCurrentCluster()!.server})`,
    webhookConfig: (name: string) => orAbsent(admission.readMutatingWebhookConfiguration({ name }, o)),
    service: (namespace: string, name: string) => orAbsent(core.readNamespacedService({ namespace, name }, o)),
    deployments: async (namespace: string) => (await apps.listNamespacedDeployment({ namespace }, o)).items,
    endpointSlices: async (namespace: string, service: string) =>
      (await discovery.listNamespacedEndpointSlice({ namespace, labelSelector: `kubernetes.io/service-name=${service}` }, o)).items,
    secret: (namespace: string, name: string) => orAbsent(core.readNamespacedSecret({ namespace, name }, o)),
    namespace: (name: string) => orAbsent(core.readNamespace({ name }, o)),
    namespacesLabelled: async (labelSelector: string) => (await core.listNamespace({ labelSelector, limit: 1 }, o)).items,
    pods: async (namespace: string) => (await core.listNamespacedPod({ namespace }, o)).items,
    pod: (namespace: string, name: string) => orAbsent(core.readNamespacedPod({ namespace, name }, o)),
    replicaSets: async (namespace: string) => (await apps.listNamespacedReplicaSet({ namespace }, o)).items,
    jobs: async (namespace: string) => (await batch.listNamespacedJob({ namespace }, o)).items,
    dryRunPod: (namespace: string, pod: Pod) => core.createNamespacedPod({ namespace, body: pod as V1Pod, dryRun: "All" }, o),
    /** GET /metrics of a pod's port through the API server's pod proxy. */
    podMetrics: (namespace: string, pod: string, port: number) => core.connectGetNamespacedPodProxyWithPath({ namespace, name: `${pod}:${port}`, path: "metrics" }, o),
  };
}

export type Cluster = ReturnType<typeof connectCluster>;

/** The certificate chain (PEM) a TLS server at `url` serves, without trusting it. */
export function servedChain(url: string, timeoutMs: number): Promise<string> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: Number(u.port || 443), rejectUnauthorized: false, ...(isIP(host) === 0 && { servername: host }), timeout: timeoutMs }, () => {
      const pems: string[] = [];
      let cert = socket.getPeerCertificate(true);
      while (cert?.raw !== undefined && pems.length < 10) {
        pems.push(new X509Certificate(cert.raw).toString());
        if (cert.issuerCertificate === undefined || cert.issuerCertificate === cert) break;
        cert = cert.issuerCertificate;
      }
      socket.end();
      resolve(pems.join(""));
    });
    socket.on("timeout", () => socket.destroy(new Error(`no TLS answer from ${u.host} within ${timeoutMs} ms`)));
    socket.on("error", reject);
  });
}

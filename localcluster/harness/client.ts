// A small API client for e2e tests, on @kubernetes/client-node with the control plane's admin kubeconfig.
import {
  AdmissionregistrationV1Api,
  ApiException,
  AppsV1Api,
  BatchV1Api,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  type V1Namespace,
  type V1Pod,
} from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { pollUntil } from "./poll.ts";

export interface TestClient {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly apps: AppsV1Api;
  readonly batch: BatchV1Api;
  readonly admission: AdmissionregistrationV1Api;
  readonly objects: KubernetesObjectApi;
  /** Creates a namespace and makes sure its `default` ServiceAccount exists, so pods are admitted at once. */
  createNamespace(name: string, labels?: Readonly<Record<string, string>>): Promise<V1Namespace>;
  /** Creates one object (or the single document of a YAML text); `dryRun` sends dryRun=All (kubectl --dry-run=server). */
  create<T extends KubernetesObject>(object: T | string, options?: { namespace?: string; dryRun?: boolean }): Promise<T>;
  /** Creates every document of a multi-document YAML text, in order. */
  createAll(yamlText: string, options?: { namespace?: string }): Promise<KubernetesObject[]>;
  getPod(namespace: string, name: string): Promise<V1Pod>;
  listPods(namespace: string, labelSelector?: string): Promise<V1Pod[]>;
  /** Waits (bounded) until the pods a Deployment or Job selects exist; returns them. */
  waitForPodsOf(kind: "Deployment" | "Job", namespace: string, name: string, options?: { count?: number; timeoutMs?: number }): Promise<V1Pod[]>;
}

/** "409 AlreadyExists: pods "x" already exists" rather than client-node's message with every header. */
export function describeApiError(e: unknown): string {
  if (!(e instanceof ApiException)) return e instanceof Error ? e.message : String(e);
  const body: unknown = e.body;
  let parsed: unknown = body;
  if (typeof body === "string") {
    try {
      parsed = JSON.parse(body);
    } catch {
      return `${e.code}: ${body}`;
    }
  }
  const status = parsed as { reason?: string; message?: string } | undefined;
  return `${e.code}${status?.reason ? ` ${status.reason}` : ""}: ${status?.message ?? JSON.stringify(parsed)}`;
}

export function apiErrorCode(e: unknown): number | undefined {
  return e instanceof ApiException ? e.code : undefined;
}

/** Parses YAML documents into objects, skipping empty ones; names the document that is not an object. */
export function parseObjects(yamlText: string): KubernetesObject[] {
  return parseAllDocuments(yamlText)
    .map((doc, i) => {
      if (doc.errors.length > 0) throw new Error(`YAML document ${i + 1}: ${doc.errors[0]?.message}`);
      return doc.toJS() as unknown;
    })
    .filter((o) => o !== null && o !== undefined)
    .map((o, i) => {
      const obj = o as KubernetesObject;
      if (typeof o !== "object" || !obj.kind || !obj.apiVersion) throw new Error(`YAML document ${i + 1} has no kind/apiVersion`);
      return obj;
    });
}

function labelSelectorOf(obj: { spec?: { selector?: { matchLabels?: Record<string, string> } } }): string {
  const labels = obj.spec?.selector?.matchLabels ?? {};
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}

export function clientFor(controlPlane: { readonly kubeconfigPath: string }): TestClient {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(controlPlane.kubeconfigPath);
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const apps = kubeConfig.makeApiClient(AppsV1Api);
  const batch = kubeConfig.makeApiClient(BatchV1Api);
  const objects = KubernetesObjectApi.makeApiClient(kubeConfig);

  const create = async <T extends KubernetesObject>(object: T | string, options: { namespace?: string; dryRun?: boolean } = {}): Promise<T> => {
    let obj: T;
    if (typeof object === "string") {
      const all = parseObjects(object);
      if (all.length !== 1) throw new Error(`create() takes one YAML document, got ${all.length}; use createAll()`);
      obj = all[0] as T;
    } else obj = structuredClone(object);
    if (options.namespace) obj.metadata = { ...obj.metadata, namespace: options.namespace };
    try {
      return await objects.create(obj, undefined, options.dryRun ? "All" : undefined);
    } catch (e) {
      throw new Error(`create ${obj.kind} ${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""} failed: ${describeApiError(e)}`);
    }
  };

  return {
    kubeConfig,
    core,
    apps,
    batch,
    admission: kubeConfig.makeApiClient(AdmissionregistrationV1Api),
    objects,
    create,
    async createAll(yamlText, options = {}) {
      const created: KubernetesObject[] = [];
      for (const obj of parseObjects(yamlText)) created.push(await create(obj, options));
      return created;
    },
    async createNamespace(name, labels = {}) {
      const ns = await core.createNamespace({ body: { metadata: { name, labels: { ...labels } } } });
      try {
        await core.createNamespacedServiceAccount({ namespace: name, body: { metadata: { name: "default" } } });
      } catch (e) {
        // The controller-manager's serviceaccount controller got there first: that is fine.
        if (apiErrorCode(e) !== 409) throw new Error(`create ServiceAccount ${name}/default failed: ${describeApiError(e)}`);
      }
      return ns;
    },
    getPod: (namespace, name) => core.readNamespacedPod({ namespace, name }),
    async listPods(namespace, labelSelector) {
      return (await core.listNamespacedPod({ namespace, labelSelector })).items;
    },
    async waitForPodsOf(kind, namespace, name, options = {}) {
      const owner = kind === "Deployment" ? await apps.readNamespacedDeployment({ namespace, name }) : await batch.readNamespacedJob({ namespace, name });
      const selector = labelSelectorOf(owner);
      const want = options.count ?? (kind === "Deployment" ? (owner.spec as { replicas?: number }).replicas ?? 1 : 1);
      return pollUntil(
        `${want} pod(s) of ${kind} ${namespace}/${name} (selector ${selector})`,
        async () => {
          const pods = (await core.listNamespacedPod({ namespace, labelSelector: selector })).items;
          return pods.length >= want ? pods : undefined;
        },
        { timeoutMs: options.timeoutMs ?? 30_000, intervalMs: 250 },
      );
    },
  };
}

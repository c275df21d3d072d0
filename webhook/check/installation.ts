// The installation: the MutatingWebhookConfiguration, where it sends the API server (a Service, or
// a URL), and behind a Service the webhook Deployment's readiness and the Service's ready
// endpoints. Pure: the objects in (as the API returns them, or undefined when absent), results out.
import { fail, ok, skip, warn, type CheckResult } from "./result.ts";

export const INSTALLATION = "installation";

export interface ServiceReference {
  readonly name: string;
  readonly namespace: string;
  readonly port?: number;
  readonly path?: string;
}

export interface WebhookView {
  readonly name: string;
  readonly failurePolicy?: string;
  readonly clientConfig: { readonly url?: string; readonly caBundle?: string; readonly service?: ServiceReference };
}

export interface WebhookConfigView {
  readonly metadata?: { readonly name?: string; readonly annotations?: Readonly<Record<string, string>> };
  readonly webhooks?: readonly WebhookView[];
}

export type WebhookTarget =
  | { readonly kind: "service"; readonly namespace: string; readonly name: string; readonly port: number }
  | { readonly kind: "url"; readonly url: string };

/** The port the API server uses for a service reference without one. */
const DEFAULT_SERVICE_PORT = 443;

export function targetOf(webhook: WebhookView): WebhookTarget | undefined {
  const { service, url } = webhook.clientConfig;
  if (service !== undefined) return { kind: "service", namespace: service.namespace, name: service.name, port: service.port ?? DEFAULT_SERVICE_PORT };
  return url === undefined ? undefined : { kind: "url", url };
}

export const describeTarget = (t: WebhookTarget): string => (t.kind === "url" ? t.url : `Service ${t.namespace}/${t.name}:${t.port}`);

const INSTALL_FIX = "install it: kubectl apply -k manifests/overlays/self-bootstrap (or manifests/overlays/cert-manager)";

/** The configuration is there, has webhooks, and they all send to one place; returns that place. */
export function checkConfiguration(name: string, config: WebhookConfigView | undefined): { results: CheckResult[]; target?: WebhookTarget } {
  const id = "webhook-configuration";
  if (config === undefined) return { results: [fail(INSTALLATION, id, `MutatingWebhookConfiguration ${name} not found`, INSTALL_FIX)] };
  const webhooks = config.webhooks ?? [];
  if (webhooks.length === 0) return { results: [fail(INSTALLATION, id, `MutatingWebhookConfiguration ${name} has no webhooks`, INSTALL_FIX)] };
  const targets = webhooks.map(targetOf);
  const first = targets[0];
  const described = new Set(targets.map((t) => (t === undefined ? "nowhere" : describeTarget(t))));
  if (first === undefined || described.size > 1) {
    return { results: [fail(INSTALLATION, id, `MutatingWebhookConfiguration ${name}: its webhooks send to ${[...described].join(" and ")}`, "point every webhook's clientConfig at the one tailcar webhook Service, as manifests/base does")] };
  }
  const names = webhooks.map((w) => w.name).join(", ");
  return { results: [ok(INSTALLATION, id, `MutatingWebhookConfiguration ${name}: ${webhooks.length} webhook${webhooks.length === 1 ? "" : "s"} (${names}) calling ${describeTarget(first)}`)], target: first };
}

/** failurePolicy Ignore is what we ship: a webhook that is down never blocks a pod. */
export function checkFailurePolicy(config: WebhookConfigView): CheckResult[] {
  return (config.webhooks ?? []).map((w) => {
    // The API's default for admissionregistration.k8s.io/v1 is Fail.
    const policy = w.failurePolicy ?? "Fail";
    const id = "failure-policy";
    if (policy === "Ignore") {
      return ok(INSTALLATION, id, `webhook ${w.name}: failurePolicy Ignore (while the webhook is down pods are admitted without sidecars, and reported once it is back)`);
    }
    return warn(INSTALLATION, id, `webhook ${w.name}: failurePolicy ${policy}: while the webhook is unreachable, no pod can be created in the namespaces it covers`,
      "set failurePolicy: Ignore, as manifests/base ships it; if you keep Fail, run at least 2 replicas with the PodDisruptionBudget");
  });
}

export interface DeploymentView {
  readonly metadata?: { readonly name?: string; readonly namespace?: string };
  readonly spec?: { readonly replicas?: number; readonly template?: { readonly metadata?: { readonly labels?: Readonly<Record<string, string>> } } };
  readonly status?: { readonly replicas?: number; readonly readyReplicas?: number; readonly updatedReplicas?: number };
}

export interface ServiceView {
  readonly metadata?: { readonly name?: string };
  readonly spec?: { readonly selector?: Readonly<Record<string, string>>; readonly ports?: readonly { readonly port: number; readonly name?: string }[] };
}

export interface EndpointSliceView {
  readonly endpoints?: readonly { readonly addresses?: readonly string[]; readonly conditions?: { readonly ready?: boolean } }[];
}

/** Whether a Service's selector selects pods with these labels (a Service without a selector selects none). */
export function selects(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>> | undefined): boolean {
  const wanted = Object.entries(selector ?? {});
  return wanted.length > 0 && wanted.every(([k, v]) => labels?.[k] === v);
}

/** The Deployments whose pods the Service sends to. */
export function webhookDeployments(service: ServiceView, deployments: readonly DeploymentView[]): DeploymentView[] {
  return deployments.filter((d) => selects(service.spec?.selector, d.spec?.template?.metadata?.labels));
}

const describeFix = (namespace: string, what: string): string =>
  `see why: kubectl -n ${namespace} describe ${what}, and kubectl -n ${namespace} logs ${what}`;

export function checkDeployments(target: Extract<WebhookTarget, { kind: "service" }>, service: ServiceView | undefined, deployments: readonly DeploymentView[]): CheckResult[] {
  const id = "webhook-deployment";
  if (service === undefined) return [skip(INSTALLATION, id, "webhook Deployment not looked for: the Service is missing (below)")];
  const found = webhookDeployments(service, deployments);
  if (found.length === 0) {
    return [fail(INSTALLATION, id, `no Deployment in namespace ${target.namespace} runs the pods of Service ${target.name} (selector ${JSON.stringify(service.spec?.selector ?? {})})`, INSTALL_FIX)];
  }
  return found.map((d) => {
    const name = `Deployment ${target.namespace}/${d.metadata?.name ?? "?"}`;
    const wanted = d.spec?.replicas ?? 1;
    const ready = d.status?.readyReplicas ?? 0;
    const updated = d.status?.updatedReplicas ?? 0;
    const fix = describeFix(target.namespace, `deployment/${d.metadata?.name ?? ""}`);
    if (ready === 0) return fail(INSTALLATION, id, `${name}: 0 of ${wanted} replicas ready`, fix);
    if (ready < wanted) return warn(INSTALLATION, id, `${name}: ${ready} of ${wanted} replicas ready`, fix);
    if (updated < wanted) return warn(INSTALLATION, id, `${name}: ${ready} of ${wanted} replicas ready, ${updated} updated (a rollout is under way or stuck)`, fix);
    return ok(INSTALLATION, id, `${name}: ${ready} of ${wanted} replicas ready`);
  });
}

/** Ready addresses: an endpoint whose ready condition is unset counts as ready, as the API defines it. */
export function readyAddresses(slices: readonly EndpointSliceView[]): string[] {
  return slices.flatMap((s) => (s.endpoints ?? []).filter((e) => e.conditions?.ready !== false).flatMap((e) => e.addresses ?? []));
}

export function checkService(target: Extract<WebhookTarget, { kind: "service" }>, service: ServiceView | undefined, slices: readonly EndpointSliceView[]): CheckResult[] {
  const id = "webhook-service";
  const name = `Service ${target.namespace}/${target.name}`;
  if (service === undefined) return [fail(INSTALLATION, id, `${name} not found`, INSTALL_FIX)];
  const ports = (service.spec?.ports ?? []).map((p) => p.port);
  if (!ports.includes(target.port)) {
    return [fail(INSTALLATION, id, `${name} has no port ${target.port} (it has ${ports.join(", ") || "none"}), which the MutatingWebhookConfiguration calls`, "make clientConfig.service.port and the Service's port agree (manifests/base uses 443)")];
  }
  const ready = readyAddresses(slices);
  if (ready.length === 0) {
    return [fail(INSTALLATION, id, `${name}: no ready endpoints, so the API server cannot reach the webhook`, `the webhook pods are not ready or not selected: kubectl -n ${target.namespace} get endpointslices -l kubernetes.io/service-name=${target.name}, and the Deployment above`)];
  }
  return [ok(INSTALLATION, id, `${name}: ${ready.length} ready endpoint${ready.length === 1 ? "" : "s"} (${ready.join(", ")})`)];
}

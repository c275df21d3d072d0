// The checks against a cluster, in order: the installation (each step reads what it judges, and a
// step that cannot read says so as a failed or skipped check rather than ending the run), then the
// namespace or the pod asked about.
import { NAMESPACE_LABEL, STATUS_ANNOTATION } from "../annotations.ts";
import { inScope, type NamespaceView } from "../missed-pods.ts";
import type { Pod } from "../pod-types.ts";
import { excludedNamespacesFor } from "../settings.ts";
import { SERVER_ROWS } from "../webhook-rows.ts";
import { checkDryRun, probeNamespace, probePod, type DryRunAnswer } from "./admission.ts";
import { checkServingCert, renewalFix, servingSecretName, type ServingCert } from "./certificate.ts";
import { connectCluster, describeError, isForbidden, servedChain, type Cluster } from "./cluster.ts";
import type { CheckArgs } from "./command.ts";
import {
  checkConfiguration, checkDeployments, checkFailurePolicy, checkService, describeTarget, INSTALLATION, webhookDeployments, type DeploymentView, type WebhookTarget,
} from "./installation.ts";
import { checkMissedPods, checkNamespaceLabel, checkVersionSkew, type NamespacedPod } from "./namespace.ts";
import { ownerWorkload, replaceAdvice, type OwnedView } from "./owners.ts";
import { checkAnnotations, checkInjectedPod, checkNotInjected, sidecarSettingsOf } from "./pod-files.ts";
import type { Report } from "./render.ts";
import { fail, skip, type CheckResult } from "./result.ts";
import { parseInjectStatus } from "../inject.ts";

const DEFAULT_WEBHOOK_NAMESPACE = SERVER_ROWS.find((r) => r.key === "namespace")!.default as string;

/** `what` read, or a failed (or, when forbidden, skipped) check saying why not. */
async function attempt<T>(results: CheckResult[], group: string, id: string, what: string, read: () => Promise<T>): Promise<{ value: T } | undefined> {
  try {
    return { value: await read() };
  } catch (e) {
    results.push(isForbidden(e)
      ? skip(group, id, `could not read ${what}: ${describeError(e)}`)
      : fail(group, id, `could not read ${what}: ${describeError(e)}`, "check that the API server is reachable and the kubeconfig's user may read it (--kubeconfig, --context)"));
    return undefined;
  }
}

interface Installation {
  readonly results: CheckResult[];
  readonly webhookVersion?: string;
  readonly excluded: readonly string[];
}

async function servingCert(cluster: Cluster, target: WebhookTarget, deployment: DeploymentView | undefined, timeoutMs: number, logsFix: string): Promise<ServingCert | CheckResult> {
  if (target.kind === "url") {
    try {
      return { source: target.url, chainPem: await servedChain(target.url, timeoutMs) };
    } catch (e) {
      return skip(INSTALLATION, "serving-certificate", `serving certificate not checked: ${target.url} is not reachable from here (${describeError(e)})`);
    }
  }
  const name = servingSecretName((deployment as { spec?: { template?: { spec?: Pod["spec"] } } } | undefined)?.spec?.template?.spec);
  const where = `Secret ${target.namespace}/${name}`;
  try {
    const secret = await cluster.secret(target.namespace, name);
    const pem = secret?.data?.["tls.crt"];
    if (pem === undefined) return fail(INSTALLATION, "serving-certificate", `${where} ${secret === undefined ? "not found" : "holds no tls.crt"}: the webhook has no certificate to serve`, `${logsFix} says why: self-bootstrap writes it at start-up, cert-manager when the Certificate is issued`);
    return { source: where, chainPem: Buffer.from(pem, "base64").toString("utf8") };
  } catch (e) {
    return skip(INSTALLATION, "serving-certificate", `serving certificate not checked: could not read ${where}: ${describeError(e)}`);
  }
}

async function checkInstallation(cluster: Cluster, args: CheckArgs): Promise<Installation> {
  const results: CheckResult[] = [];
  const name = args.webhookConfig;
  const read = await attempt(results, INSTALLATION, "webhook-configuration", `MutatingWebhookConfiguration ${name}`, () => cluster.webhookConfig(name));
  if (read === undefined) return { results, excluded: excludedNamespacesFor(DEFAULT_WEBHOOK_NAMESPACE) };
  const config = read.value;
  const { results: configResults, target } = checkConfiguration(name, config);
  results.push(...configResults);
  if (config === undefined || target === undefined) return { results, excluded: excludedNamespacesFor(DEFAULT_WEBHOOK_NAMESPACE) };
  results.push(...checkFailurePolicy(config));
  const excluded = excludedNamespacesFor(target.kind === "service" ? target.namespace : DEFAULT_WEBHOOK_NAMESPACE);

  let deployment: DeploymentView | undefined;
  let logsFix = "the webhook's log";
  if (target.kind === "service") {
    const service = await attempt(results, INSTALLATION, "webhook-service", `Service ${target.namespace}/${target.name}`, () => cluster.service(target.namespace, target.name));
    const deployments = await attempt(results, INSTALLATION, "webhook-deployment", `the Deployments of namespace ${target.namespace}`, () => cluster.deployments(target.namespace));
    const slices = await attempt(results, INSTALLATION, "webhook-service", `the EndpointSlices of Service ${target.namespace}/${target.name}`, () => cluster.endpointSlices(target.namespace, target.name));
    if (deployments !== undefined && service !== undefined) {
      results.push(...checkDeployments(target, service.value, deployments.value));
      deployment = service.value === undefined ? undefined : webhookDeployments(service.value, deployments.value)[0];
      if (deployment !== undefined) logsFix = `kubectl -n ${target.namespace} logs deployment/${deployment.metadata?.name}`;
    }
    if (service !== undefined && slices !== undefined) results.push(...checkService(target, service.value, slices.value));
  } else {
    results.push(skip(INSTALLATION, "webhook-deployment", `webhook Deployment and Service not checked: the webhook is called at a URL (${describeTarget(target)})`));
  }

  const cert = await servingCert(cluster, target, deployment, args.requestTimeout, logsFix);
  if ("status" in cert) results.push(cert);
  else results.push(...checkServingCert(config, target, cert, renewalFix(config, target, deployment && `deployment/${deployment.metadata?.name}`)));

  // Where to try a dry-run pod: the namespace asked about, a namespace that opted in, or default.
  const candidates: (NamespaceView | undefined)[] = [];
  try {
    if (args.namespace !== undefined) candidates.push(await cluster.namespace(args.namespace));
    candidates.push(...(await cluster.namespacesLabelled(`${NAMESPACE_LABEL}=enabled`)), await cluster.namespace("default"));
  } catch (e) {
    results.push(fail(INSTALLATION, "dry-run-admission", `could not read namespaces to try a dry-run pod in: ${describeError(e)}`, "check that the kubeconfig's user may read namespaces"));
    return { results, excluded };
  }
  const namespace = probeNamespace(candidates as NamespaceView[], excluded);
  let answer: DryRunAnswer | undefined;
  if (namespace !== undefined) {
    try {
      answer = { pod: await cluster.dryRunPod(namespace, probePod()) as DryRunAnswer["pod"] };
    } catch (e) {
      answer = { error: describeError(e) };
    }
  }
  const dryRun = checkDryRun(namespace, answer, logsFix);
  results.push(dryRun.result);
  return { results, excluded, ...(dryRun.version !== undefined && { webhookVersion: dryRun.version }) };
}

async function owners(cluster: Cluster, namespace: string): Promise<(pod: OwnedView) => ReturnType<typeof ownerWorkload>> {
  // Without them the owner is the ReplicaSet or Job itself: the advice is still right, only less direct.
  const [replicaSets, jobs] = await Promise.all([cluster.replicaSets(namespace).catch(() => []), cluster.jobs(namespace).catch(() => [])]);
  return (pod) => ownerWorkload(pod, replicaSets as OwnedView[], jobs as OwnedView[]);
}

async function checkNamespace(cluster: Cluster, name: string, installation: Installation): Promise<CheckResult[]> {
  const group = `namespace ${name}`;
  const results: CheckResult[] = [];
  const ns = await attempt(results, group, "namespace-label", `namespace ${name}`, () => cluster.namespace(name));
  if (ns === undefined) return results;
  results.push(checkNamespaceLabel(name, ns.value as NamespaceView | undefined, installation.excluded));
  if (ns.value === undefined) return results;
  const pods = await attempt(results, group, "missed-injection", `the pods of namespace ${name}`, () => cluster.pods(name));
  if (pods === undefined) return results;
  const ownerOf = await owners(cluster, name);
  const list = pods.value as unknown as NamespacedPod[];
  results.push(...checkMissedPods(name, list, ns.value as NamespaceView, installation.excluded, ownerOf));
  results.push(...checkVersionSkew(name, list, installation.webhookVersion, ownerOf));
  return results;
}

async function metricsOf(cluster: Cluster, pod: Pod, namespace: string): Promise<Map<string, { text?: string; note?: string }>> {
  const out = new Map<string, { text?: string; note?: string }>();
  const status = parseInjectStatus(pod.metadata?.annotations?.[STATUS_ANNOTATION]);
  const podIp = (pod.status as { podIP?: string } | undefined)?.podIP;
  for (const container of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    if (!status?.containers.includes(container.name)) continue;
    const port = sidecarSettingsOf(container)?.metricsPort;
    if (port === undefined) continue;
    if (port === 0) out.set(container.name, { note: "the metrics port is 0, chosen at start-up (the sidecar's log names it)" });
    else if (podIp === undefined) out.set(container.name, { note: "the pod has no IP yet (not running)" });
    else {
      try {
        out.set(container.name, { text: String(await cluster.podMetrics(namespace, pod.metadata?.name ?? "", port)) });
      } catch (e) {
        out.set(container.name, { note: `GET /metrics on port ${port} through the API server's pod proxy failed: ${describeError(e)}` });
      }
    }
  }
  return out;
}

async function checkPod(cluster: Cluster, namespace: string, name: string, installation: Installation): Promise<CheckResult[]> {
  const group = `pod ${namespace}/${name}`;
  const results: CheckResult[] = [];
  const read = await attempt(results, group, "pod", `pod ${namespace}/${name}`, () => cluster.pod(namespace, name));
  if (read === undefined) return results;
  if (read.value === undefined) return [fail(group, "pod", `pod ${namespace}/${name} not found`, "check the name and -n NAMESPACE")];
  const pod = read.value as unknown as Pod;
  const input = { group, pod, running: { namespace, name, metrics: await metricsOf(cluster, pod, namespace) } };
  results.push(...checkAnnotations(input));
  if (parseInjectStatus(pod.metadata?.annotations?.[STATUS_ANNOTATION]) === undefined) {
    const ns = await cluster.namespace(namespace).catch(() => undefined);
    const scoped = ns === undefined ? undefined : inScope((pod.metadata?.labels ?? {}) as Record<string, string>, ns as NamespaceView, installation.excluded);
    const ownerOf = await owners(cluster, namespace);
    results.push(...checkNotInjected(input, scoped, replaceAdvice(namespace, ownerOf(pod as OwnedView), [name])));
    return results;
  }
  results.push(...checkInjectedPod(input));
  const ownerOf = await owners(cluster, namespace);
  results.push(...checkVersionSkew(namespace, [pod as unknown as NamespacedPod], installation.webhookVersion, ownerOf).map((r) => ({ ...r, group })));
  return results;
}

export async function checkCluster(args: CheckArgs): Promise<Report> {
  const cluster = connectCluster({ kubeconfig: args.kubeconfig, context: args.context, requestTimeoutMs: args.requestTimeout });
  const installation = await checkInstallation(cluster, args);
  const results = [...installation.results];
  if (args.pod !== undefined) results.push(...(await checkPod(cluster, args.namespace ?? "default", args.pod, installation)));
  else if (args.namespace !== undefined) results.push(...(await checkNamespace(cluster, args.namespace, installation)));
  return { target: cluster.target, results };
}

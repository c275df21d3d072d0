// Pods admitted while the webhook was down: with failurePolicy: Ignore the API server admits them
// untouched, and nobody would notice. At start and every few minutes the webhook lists the pods that
// ask for sidecars, are in scope of the shipped MutatingWebhookConfiguration, and carry no
// tailcar.io/status, and that the injector would give sidecars (so a pod whose every file entry is
// invalid, which the webhook did see and warned about, is not mistaken for a missed one); it logs
// each, records an Event on it and exposes the count as a gauge.
// The selection and the Event are pure functions; startMissedPodReporter is the I/O.
import type { CoreV1Event } from "@kubernetes/client-node";
import { Gauge, type Registry } from "prom-client";
import { INJECT_LABEL, NAMESPACE_LABEL, STATUS_ANNOTATION } from "./annotations.ts";
import { FILES_ANNOTATION } from "./file-entries.ts";
import { inject } from "./inject.ts";
import type { Logger } from "./log.ts";
import type { InjectOptions } from "./options.ts";
import type { Pod } from "./pod-types.ts";

export const MISSED_REASON = "TailcarNotInjected";
export const MISSED_PODS_METRIC = "tailcar_webhook_missed_pods";
/** Never injected, whatever their labels (as the shipped namespaceSelector says). */
export const EXCLUDED_NAMESPACES: readonly string[] = ["kube-system", "tailcar-system"];

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly deletionTimestamp?: unknown;
}

export interface PodView {
  readonly metadata?: ObjectMeta;
  readonly spec?: unknown;
  readonly status?: { readonly phase?: string };
}

export interface NamespaceView {
  readonly metadata?: ObjectMeta;
}

export interface MissedPod {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/**
 * Whether the shipped webhooks would have been called for a pod: a namespace labelled
 * tailcar.io/injection=enabled unless the pod is labelled tailcar.io/inject=false, or a namespace
 * without that label when the pod is labelled tailcar.io/inject=true.
 */
export function inScope(podLabels: Readonly<Record<string, string>>, namespace: NamespaceView | undefined): boolean {
  const name = namespace?.metadata?.name;
  if (name === undefined || EXCLUDED_NAMESPACES.includes(name)) return false;
  const nsLabel = namespace?.metadata?.labels?.[NAMESPACE_LABEL];
  const podLabel = podLabels[INJECT_LABEL];
  if (nsLabel === "enabled") return podLabel !== "false";
  return nsLabel === undefined && podLabel === "true";
}

/** Cheap first filter, applied while listing: asks for files and was never injected. */
export function isCandidate(pod: PodView): boolean {
  const annotations = pod.metadata?.annotations ?? {};
  return annotations[FILES_ANNOTATION] !== undefined && annotations[STATUS_ANNOTATION] === undefined;
}

/** Whether the injector, with these options, gives the pod at least one sidecar. */
export const wouldInject = (options: InjectOptions) => (pod: PodView): boolean =>
  inject({ apiVersion: "v1", kind: "Pod", metadata: pod.metadata, spec: pod.spec } as Pod, options).injected.length > 0;

/** Pods that asked for sidecars, were in scope, and were admitted without the webhook. */
export function findMissedPods(pods: readonly PodView[], namespaces: readonly NamespaceView[], injectable: (pod: PodView) => boolean): MissedPod[] {
  const byName = new Map(namespaces.map((ns) => [ns.metadata?.name ?? "", ns]));
  const missed: MissedPod[] = [];
  for (const pod of pods) {
    const meta = pod.metadata ?? {};
    if (!isCandidate(pod)) continue;
    // Finished or going away: recreating it would not help, so it is not worth an alarm.
    if (meta.deletionTimestamp !== undefined || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    if (!inScope(meta.labels ?? {}, byName.get(meta.namespace ?? ""))) continue;
    if (!injectable(pod)) continue;
    missed.push({ namespace: meta.namespace ?? "", name: meta.name ?? "", uid: meta.uid ?? "" });
  }
  return missed.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

export const missedMessage = (pod: MissedPod): string =>
  `tailcar: the webhook was unavailable when pod ${pod.name} was admitted, so its ${FILES_ANNOTATION} sidecars were not injected; delete and recreate the pod (or restart its workload) to get them`;

/** A core/v1 Event on the pod; the name is fixed per pod uid, so a rescan or a restart never duplicates it. */
export function missedEvent(pod: MissedPod, component: string, now: Date): CoreV1Event {
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `${pod.name}.tailcar-not-injected.${pod.uid.slice(0, 8)}`, namespace: pod.namespace },
    involvedObject: { apiVersion: "v1", kind: "Pod", namespace: pod.namespace, name: pod.name, uid: pod.uid },
    reason: MISSED_REASON,
    message: missedMessage(pod),
    type: "Warning",
    source: { component },
    reportingComponent: component,
    reportingInstance: component,
    action: "Admit",
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
  };
}

export interface MissedPodReporterOptions {
  /** A kubeconfig file; undefined: in-cluster, else KUBECONFIG or ~/.kube/config. */
  readonly kubeconfig: string | undefined;
  readonly logger: Logger;
  readonly registry: Registry;
  readonly intervalMs: number;
  /** The webhook's injection options: a pod counts as missed only if they would give it sidecars. */
  readonly injectOptions: InjectOptions;
  readonly component?: string;
}

export interface MissedPodReporter {
  /** Resolves after the first scan (successful or not). */
  readonly firstScan: Promise<void>;
  stop(): void;
}

/** Page size for the list calls: bounded memory on big clusters. */
const PAGE = 500;

export function startMissedPodReporter(options: MissedPodReporterOptions): MissedPodReporter {
  const { logger, intervalMs } = options;
  const component = options.component ?? "tailcar-webhook";
  const gauge = new Gauge({
    name: MISSED_PODS_METRIC,
    help: "Pods that ask for sidecars (tailcar.io/files, in scope) but were admitted without the webhook, at the last scan",
    registers: [options.registry],
  });
  const reported = new Set<string>();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const scan = async (): Promise<void> => {
    // Loaded only here: the Kubernetes client takes about 2 s to import.
    const [{ CoreV1Api, ApiException }, { kubeConfigFrom }] = await Promise.all([import("@kubernetes/client-node"), import("./tls-bootstrap.ts")]);
    const core = kubeConfigFrom(options.kubeconfig).makeApiClient(CoreV1Api);
    const namespaces = (await core.listNamespace()).items;
    const pods: PodView[] = [];
    let listed = 0;
    for (let page = 0, cont: string | undefined; page < 1000; page++) {
      const list = await core.listPodForAllNamespaces({ limit: PAGE, ...(cont ? { _continue: cont } : {}) });
      listed += list.items.length;
      // Only candidates are kept, so memory follows the problem, not the cluster's size.
      for (const p of list.items) {
        const view: PodView = { metadata: p.metadata as ObjectMeta, spec: p.spec, status: { phase: p.status?.phase } };
        if (isCandidate(view)) pods.push(view);
      }
      cont = list.metadata?._continue;
      if (!cont) break;
    }
    const missed = findMissedPods(pods, namespaces as NamespaceView[], wouldInject(options.injectOptions));
    gauge.set(missed.length);
    // Forget pods that are gone or fixed, so the set stays as small as the problem.
    const current = new Set(missed.map((p) => p.uid));
    for (const uid of reported) if (!current.has(uid)) reported.delete(uid);
    let eventsFailed = 0;
    for (const pod of missed) {
      if (reported.has(pod.uid)) continue;
      logger.warn("pod admitted without the webhook: no sidecars injected", { namespace: pod.namespace, name: pod.name, uid: pod.uid, reason: MISSED_REASON });
      try {
        await core.createNamespacedEvent({ namespace: pod.namespace, body: missedEvent(pod, component, new Date()) });
      } catch (e) {
        // 409: recorded before this restart already. Anything else: try again at the next scan.
        if (!(e instanceof ApiException && e.code === 409)) {
          eventsFailed++;
          logger.warn("could not record the TailcarNotInjected Event; will retry at the next scan", { namespace: pod.namespace, name: pod.name, error: e });
          continue;
        }
      }
      reported.add(pod.uid);
    }
    logger.info("missed-pod scan done", { missedPods: missed.length, podsListed: listed, ...(eventsFailed > 0 ? { eventsFailed } : {}) });
  };

  const loop = async (): Promise<void> => {
    try {
      await scan();
    } catch (e) {
      logger.warn("missed-pod scan failed; will retry at the next scan", { error: e, retryInMs: intervalMs });
    }
    if (!stopped) {
      timer = setTimeout(() => void loop(), intervalMs);
      timer.unref();
    }
  };
  return {
    firstScan: loop(),
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

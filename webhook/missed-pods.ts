// Pods admitted while the webhook was down: with failurePolicy: Ignore the API server admits them
// untouched, and nobody would notice. At start and every few minutes the webhook lists the pods that
// ask for sidecars, are in scope of the shipped MutatingWebhookConfiguration (only those namespaces
// and labels are listed, paged and bounded: webhook/scoped-pods.ts), and carry no
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
import {
  DEFAULT_LIST_BOUNDS, ENABLED_NAMESPACES, listPaged, scopedPodQueries, UNLABELLED_NAMESPACES, type ListBounds, type Page, type PageQuery,
} from "./scoped-pods.ts";

export const MISSED_REASON = "TailcarNotInjected";
export const MISSED_PODS_METRIC = "tailcar_webhook_missed_pods";

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
 * Whether the shipped webhooks would have been called for a pod, and the injector not refused it: a
 * namespace labelled tailcar.io/injection=enabled unless the pod is labelled tailcar.io/inject=false,
 * or a namespace without that label when the pod is labelled tailcar.io/inject=true; never one of
 * `excluded` (kube-system and the webhook's own, InjectOptions.excludedNamespaces).
 */
export function inScope(podLabels: Readonly<Record<string, string>>, namespace: NamespaceView | undefined, excluded: readonly string[]): boolean {
  const name = namespace?.metadata?.name;
  if (name === undefined || excluded.includes(name)) return false;
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
  // Only whether it injects is asked: the status annotation, with the version in it, is dropped.
  inject({ apiVersion: "v1", kind: "Pod", metadata: pod.metadata, spec: pod.spec } as Pod, options, { version: "" }).injected.length > 0;

/** Pods that asked for sidecars, were in scope, and were admitted without the webhook. */
export function findMissedPods(
  pods: readonly PodView[],
  namespaces: readonly NamespaceView[],
  injectable: (pod: PodView) => boolean,
  excluded: readonly string[],
): MissedPod[] {
  const byName = new Map(namespaces.map((ns) => [ns.metadata?.name ?? "", ns]));
  const missed: MissedPod[] = [];
  for (const pod of pods) {
    const meta = pod.metadata ?? {};
    if (!isCandidate(pod)) continue;
    // Finished or going away: recreating it would not help, so it is not worth an alarm.
    if (meta.deletionTimestamp !== undefined || pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed") continue;
    if (!inScope(meta.labels ?? {}, byName.get(meta.namespace ?? ""), excluded)) continue;
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
  /** Page size and the most objects a scan lists (DEFAULT_LIST_BOUNDS). */
  readonly listBounds?: ListBounds;
}

export interface MissedPodReporter {
  /** Resolves after the first scan (successful or not). */
  readonly firstScan: Promise<void>;
  stop(): void;
}

/** The API calls of a scan, over the client library's CoreV1Api (only what listing needs). */
export interface CoreLists {
  listNamespace(q: { labelSelector: string; limit: number; _continue?: string }): Promise<{ items: unknown[]; metadata?: { _continue?: string } }>;
  listNamespacedPod(q: { namespace: string; labelSelector: string; limit: number; _continue?: string }): Promise<{ items: unknown[]; metadata?: { _continue?: string } }>;
  listPodForAllNamespaces(q: { labelSelector: string; limit: number; _continue?: string }): Promise<{ items: unknown[]; metadata?: { _continue?: string } }>;
}

const apiQuery = (q: PageQuery) => ({ labelSelector: q.labelSelector, limit: q.limit, ...(q.continue ? { _continue: q.continue } : {}) });
const page = <T>(list: { items: unknown[]; metadata?: { _continue?: string } }, view: (item: never) => T): Page<T> =>
  ({ items: list.items.map((item) => view(item as never)), ...(list.metadata?._continue ? { continue: list.metadata._continue } : {}) });
const podView = (p: { metadata?: unknown; spec?: unknown; status?: { phase?: string } }): PodView =>
  ({ metadata: p.metadata as ObjectMeta, spec: p.spec, status: { phase: p.status?.phase } });

export interface ScanListing {
  readonly pods: PodView[];
  readonly namespaces: NamespaceView[];
  readonly podsListed: number;
  /** False when a bound stopped the listing: pods past it were not checked. */
  readonly complete: boolean;
}

/**
 * The candidates in scope (webhook/scoped-pods.ts): the enabled and the unlabelled namespaces, then
 * their pods page by page, keeping only candidates (memory follows the problem, not the cluster).
 */
export async function listInScope(core: CoreLists, excluded: readonly string[], bounds: ListBounds = DEFAULT_LIST_BOUNDS): Promise<ScanListing> {
  const namespaces = await listPaged<NamespaceView>(
    [ENABLED_NAMESPACES, UNLABELLED_NAMESPACES].map((labelSelector) => ({ labelSelector, list: async (q) => page(await core.listNamespace(apiQuery(q)), (n: NamespaceView) => n) })),
    () => true,
    bounds,
  );
  const enabled = namespaces.kept.filter((ns) => ns.metadata?.labels?.[NAMESPACE_LABEL] === "enabled").map((ns) => ns.metadata?.name ?? "");
  const seen = new Set<string>();
  // An opted-in pod of an enabled namespace comes in both lists: kept once.
  const keep = (pod: PodView): boolean => {
    const uid = pod.metadata?.uid ?? "";
    if (!isCandidate(pod) || seen.has(uid)) return false;
    seen.add(uid);
    return true;
  };
  const pods = await listPaged<PodView>(
    scopedPodQueries(enabled, excluded, {
      pods: (namespace) => async (q) =>
        page(namespace === undefined ? await core.listPodForAllNamespaces(apiQuery(q)) : await core.listNamespacedPod({ namespace, ...apiQuery(q) }), podView),
    }),
    keep,
    bounds,
  );
  return { pods: pods.kept, namespaces: namespaces.kept, podsListed: pods.listed, complete: namespaces.complete && pods.complete };
}

export function startMissedPodReporter(options: MissedPodReporterOptions): MissedPodReporter {
  const { logger, intervalMs } = options;
  const component = options.component ?? "tailcar-webhook";
  const bounds = options.listBounds ?? DEFAULT_LIST_BOUNDS;
  const excluded = options.injectOptions.excludedNamespaces;
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
    const { pods, namespaces, podsListed: listed, complete } = await listInScope(core, excluded, bounds);
    if (!complete) {
      logger.warn("missed-pod scan stopped at its bound: objects past it were not checked", { podsListed: listed, maxListed: bounds.maxListed });
    }
    const missed = findMissedPods(pods, namespaces, wouldInject(options.injectOptions), excluded);
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

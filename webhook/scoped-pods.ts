// What the missed-pod report lists (webhook/missed-pods.ts): not every pod of the cluster, but the
// pods the shipped webhooks' selectors could have sent, page by page (limit/continue), and at most
// a bounded number a scan. The selectors' scope, as label selectors the API server applies:
//  - each namespace labelled tailcar.io/injection=enabled (not excluded): its pods not labelled
//    tailcar.io/inject=false;
//  - namespaces without the label: pods labelled tailcar.io/inject=true (one cluster-wide list,
//    filtered to those namespaces).
// The paging is written over a list function, so the API client, a test's real API server and a
// pure test all drive the same loop.
import { INJECT_LABEL, NAMESPACE_LABEL } from "./annotations.ts";

export interface PageQuery {
  readonly labelSelector: string;
  readonly limit: number;
  readonly continue?: string;
}

export interface Page<T> {
  readonly items: readonly T[];
  /** The API's metadata.continue; absent or empty on the last page. */
  readonly continue?: string;
}

export type List<T> = (query: PageQuery) => Promise<Page<T>>;

export interface ListBounds {
  /** Objects asked for a page (the API's limit). */
  readonly pageSize: number;
  /** Objects listed in all before the scan stops; what is past it is not looked at. */
  readonly maxListed: number;
}

/** 500 a page bounds the memory of one response; 20,000 pods a scan (40 pages) bounds its time. */
export const DEFAULT_LIST_BOUNDS: ListBounds = { pageSize: 500, maxListed: 20_000 };

export interface Listed<T> {
  readonly kept: T[];
  /** Objects the API returned, kept or not. */
  readonly listed: number;
  /** False when maxListed stopped the listing before the last page. */
  readonly complete: boolean;
}

/** Lists every page of each query in turn, keeping what `keep` accepts, until `bounds.maxListed`. */
export async function listPaged<T>(
  queries: readonly { readonly labelSelector: string; readonly list: List<T> }[],
  keep: (item: T) => boolean,
  bounds: ListBounds,
): Promise<Listed<T>> {
  const kept: T[] = [];
  let listed = 0;
  for (const { labelSelector, list } of queries) {
    let cont: string | undefined;
    do {
      if (listed >= bounds.maxListed) return { kept, listed, complete: false };
      const limit = Math.min(bounds.pageSize, bounds.maxListed - listed);
      const page = await list({ labelSelector, limit, ...(cont ? { continue: cont } : {}) });
      listed += page.items.length;
      for (const item of page.items) if (keep(item)) kept.push(item);
      cont = page.continue || undefined;
    } while (cont !== undefined);
  }
  return { kept, listed, complete: true };
}

export const ENABLED_NAMESPACES = `${NAMESPACE_LABEL}=enabled`;
export const UNLABELLED_NAMESPACES = `!${NAMESPACE_LABEL}`;
export const PODS_IN_ENABLED_NAMESPACE = `${INJECT_LABEL}!=false`;
export const PODS_OPTED_IN = `${INJECT_LABEL}=true`;

export interface PodLister<P> {
  /** Pods of one namespace, or of all namespaces when `namespace` is undefined. */
  readonly pods: (namespace: string | undefined) => List<P>;
}

/**
 * The queries for the pods in scope, given the enabled namespaces: one per enabled namespace not
 * excluded, then the opted-in pods of every namespace (the caller keeps those of unlabelled ones).
 */
export function scopedPodQueries<P>(enabled: readonly string[], excluded: readonly string[], lister: PodLister<P>): { labelSelector: string; list: List<P> }[] {
  return [
    ...enabled.filter((ns) => !excluded.includes(ns)).sort().map((ns) => ({ labelSelector: PODS_IN_ENABLED_NAMESPACE, list: lister.pods(ns) })),
    { labelSelector: PODS_OPTED_IN, list: lister.pods(undefined) },
  ];
}

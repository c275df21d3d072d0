// Pure part of running a pod's container without a kubelet: resolve its environment the way the kubelet
// does (literal values, downward API, $(VAR) expansion) and rewrite mount paths to local folders.
import type { V1Container, V1EnvVar, V1Pod } from "@kubernetes/client-node";
import { parseQuantity } from "../../settings/quantity.ts";

export interface PathMapping {
  /** Path inside the container (a volumeMount's mountPath, plus subPath handled by the caller). */
  readonly mountPath: string;
  /** The local folder standing in for it. */
  readonly localPath: string;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Replaces each mount path where it appears as a whole path prefix ("/var/log" in "/var/log/x.log" or
 * "a,/var/log/y", not in "/var/logs" or "/opt/var/log"), longest mount first so nested mounts win.
 */
export function rewritePaths(text: string, mappings: readonly PathMapping[]): string {
  const sorted = [...mappings].sort((a, b) => b.mountPath.length - a.mountPath.length);
  if (sorted.length === 0) return text;
  const pattern = new RegExp(
    `(?<![\\w.\\-/])(${sorted.map((m) => escapeRegExp(m.mountPath.replace(/\/+$/, "") || "/")).join("|")})(?=$|[^\\w.\\-])`,
    "g",
  );
  return text.replace(pattern, (match) => sorted.find((m) => (m.mountPath.replace(/\/+$/, "") || "/") === match)?.localPath ?? match);
}

/** Kubernetes' $(VAR) expansion in command, args and env values: $$ escapes, unknown names stay as written. */
export function expandVariables(text: string, env: Readonly<Record<string, string>>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (name === undefined) return "$";
    return Object.hasOwn(env, name) ? (env[name] ?? "") : match;
  });
}

function fieldValue(pod: V1Pod, fieldPath: string): string {
  const item = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (item) {
    const map = item[1] === "labels" ? pod.metadata?.labels : pod.metadata?.annotations;
    return map?.[item[2] ?? ""] ?? "";
  }
  switch (fieldPath) {
    case "metadata.name":
      return pod.metadata?.name ?? "";
    case "metadata.namespace":
      return pod.metadata?.namespace ?? "";
    case "metadata.uid":
      return pod.metadata?.uid ?? "";
    case "spec.nodeName":
      return pod.spec?.nodeName ?? "";
    case "spec.serviceAccountName":
      return pod.spec?.serviceAccountName ?? "";
    case "status.podIP":
    case "status.hostIP":
      return "127.0.0.1";
    default:
      throw new Error(`env fieldRef "${fieldPath}" is not supported by the local pod runner`);
  }
}

function resourceValue(container: V1Container, resource: string, divisor: string | undefined, fallback: number): string {
  const [kind, name] = resource.split(".");
  const table = kind === "limits" ? container.resources?.limits : container.resources?.requests;
  const raw = table?.[name ?? ""];
  const value = raw === undefined ? fallback : parseQuantity(String(raw));
  const per = parseQuantity(divisor ?? "1");
  if (value === undefined || !per) throw new Error(`env resourceFieldRef "${resource}": cannot read quantity "${String(raw)}"`);
  // The kubelet rounds up, so a 100m CPU limit shows as 1 core.
  return String(Math.ceil(value / per));
}

/** The container's environment as the kubelet would set it; `node` holds node-level fallbacks. */
export function resolveEnv(pod: V1Pod, container: V1Container, node: { cpus: number; memoryBytes: number }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const variable of container.env ?? ([] as V1EnvVar[])) {
    const from = variable.valueFrom;
    if (!from) env[variable.name] = expandVariables(variable.value ?? "", env);
    else if (from.fieldRef) env[variable.name] = fieldValue(pod, from.fieldRef.fieldPath);
    else if (from.resourceFieldRef) {
      const resource = from.resourceFieldRef.resource;
      const fallback = resource.endsWith(".cpu") ? node.cpus : node.memoryBytes;
      env[variable.name] = resourceValue(container, resource, from.resourceFieldRef.divisor as string | undefined, fallback);
    } else throw new Error(`env ${variable.name}: only value, fieldRef and resourceFieldRef are supported by the local pod runner`);
  }
  return env;
}

export function findContainer(pod: V1Pod, name: string): V1Container {
  const all = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const container = all.find((c) => c.name === name);
  if (!container) throw new Error(`pod ${pod.metadata?.name}: no container "${name}" (has: ${all.map((c) => c.name).join(", ")})`);
  return container;
}

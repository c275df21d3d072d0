// The sidecars' metrics ports (tailcar.io/sidecar-metrics): one port a sidecar, none that a container of the
// pod declares (containerPort or hostPort), each named so that a PodMonitor can select them all by
// one regular expression (manifests/monitoring/podmonitor.yaml). Pure.
import { isRecord, type PodSpec } from "./pod-types.ts";

/**
 * The first port tried. Outside the Prometheus exporters' 9100-9999, where every port is allocated
 * and apps often listen without declaring it (9464: OpenTelemetry's Prometheus exporter), and below
 * Linux's ephemeral ports (32768 up), which outgoing connections take.
 */
export const METRICS_PORT_BASE = 19100;
export const METRICS_PORT_NAME_PREFIX = "tcmetrics-";
/** What a PodMonitor keeps: every name metricsPortName makes, and no other (Prometheus anchors it). */
export const METRICS_PORT_NAME_REGEX = `${METRICS_PORT_NAME_PREFIX}[0-9]+`;
/** The label injection puts on a pod whose sidecars serve metrics, for a PodMonitor's selector. */
export const METRICS_LABEL = "tailcar.io/sidecar-metrics";
export const METRICS_LABEL_VALUE = "true";

/** A container port's name (an IANA service name: at most 15 characters; "tcmetrics-65535" is 15). */
export const metricsPortName = (port: number): string => `${METRICS_PORT_NAME_PREFIX}${port}`;

export interface MetricsPort {
  readonly port: number;
  readonly name: string;
}

export interface TakenPorts {
  readonly numbers: Set<number>;
  readonly names: Set<string>;
}

/** Every port number (containerPort and hostPort) and port name the pod's containers declare. */
export function takenPorts(spec: PodSpec): TakenPorts {
  const numbers = new Set<number>();
  const names = new Set<string>();
  for (const list of [spec.containers, spec.initContainers, spec["ephemeralContainers"]]) {
    if (!Array.isArray(list)) continue;
    for (const container of list) {
      const ports: unknown = isRecord(container) ? container["ports"] : undefined;
      if (!Array.isArray(ports)) continue;
      for (const p of ports) {
        if (!isRecord(p)) continue;
        for (const key of ["containerPort", "hostPort"]) if (typeof p[key] === "number") numbers.add(p[key]);
        if (typeof p["name"] === "string") names.add(p["name"]);
      }
    }
  }
  return { numbers, names };
}

/**
 * The first port from METRICS_PORT_BASE up whose number and name are not taken, recorded as taken;
 * undefined when the ports up to 65535 have run out (a pod would have to declare some 46,000).
 */
export function claimMetricsPort(taken: TakenPorts): MetricsPort | undefined {
  for (let port = METRICS_PORT_BASE; port <= 65535; port++) {
    const name = metricsPortName(port);
    if (taken.numbers.has(port) || taken.names.has(name)) continue;
    taken.numbers.add(port);
    taken.names.add(name);
    return { port, name };
  }
  return undefined;
}

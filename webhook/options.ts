// Cluster-wide defaults for injection: the values of the injection rows (injection-rows.ts), as the
// webhook reads them from its flags, environment or config file and `tailcar inject` from its
// flags. Per-pod annotations override the pod rows.
import { readSettings } from "../settings/read.ts";
import { deepFreeze } from "./deep-freeze.ts";
import { INJECTION_ROWS, type InjectionValues } from "./injection-rows.ts";

export {
  DEFAULT_IMAGE_REPOSITORY, DEFAULT_MAX_SIDECARS_PER_POD, DELIVERY_MODES, MAX_SIDECARS_PER_POD_CEILING, PULL_POLICIES,
} from "./injection-rows.ts";
export { FORWARD_SINKS, type ForwardSink } from "../settings/vocabulary.ts";

export type PullPolicy = InjectionValues["imagePullPolicy"];
export type SidecarMode = "native" | "classic";
export type DeliveryMode = InjectionValues["mode"];

export interface InjectOptions extends Omit<InjectionValues, "sidecarMode"> {
  /** The server resolves "auto" to one of these (from the API server's version) before calling inject. */
  sidecarMode: SidecarMode;
  /** Namespaces never injected, whatever the webhook configuration's selectors let through. */
  excludedNamespaces: readonly string[];
}

export const SIDECAR_MODES: readonly SidecarMode[] = ["native", "classic"];

export const DEFAULT_INJECT_OPTIONS: InjectOptions = deepFreeze({
  ...readSettings(INJECTION_ROWS, { command: "tailcar" }),
  sidecarMode: "native",
  excludedNamespaces: ["kube-system", "tailcar-system"],
});

// Cluster-wide defaults for injection: the values of the injection rows (injection-rows.ts), as the
// webhook reads them from its flags, environment or config file and `tailcar inject` from its
// flags. Per-pod annotations override the pod rows. The injector's version is an input (the
// commands read it), so loading this module reads no file.
import { readSettings } from "../settings/read.ts";
import { deepFreeze } from "./deep-freeze.ts";
import { defaultImage, INJECTION_ROWS, type InjectionValues } from "./injection-rows.ts";

export {
  DEFAULT_IMAGE_REPOSITORY, DEFAULT_MAX_SIDECARS_PER_POD, defaultImage, DELIVERY_MODES, MAX_SIDECARS_PER_POD_CEILING, PULL_POLICIES,
} from "./injection-rows.ts";
export { FORWARD_SINKS, type ForwardSink } from "../settings/vocabulary.ts";

export type PullPolicy = InjectionValues["imagePullPolicy"];
export type SidecarMode = "native" | "classic";
export type DeliveryMode = InjectionValues["mode"];

export interface InjectOptions extends Omit<InjectionValues, "sidecarMode" | "image"> {
  /** The sidecar image; when none is set, defaultImage(the injector's version) (injectOptions). */
  image: string;
  /** The server resolves "auto" to one of these (from the API server's version) before calling inject. */
  sidecarMode: SidecarMode;
  /** Namespaces never injected, whatever the webhook configuration's selectors let through. */
  excludedNamespaces: readonly string[];
}

/** InjectOptions as the settings read them: `image` undefined when none was set. */
export type InjectSettings = Omit<InjectOptions, "image"> & { image: string | undefined };

export const SIDECAR_MODES: readonly SidecarMode[] = ["native", "classic"];

export const DEFAULT_EXCLUDED_NAMESPACES: readonly string[] = Object.freeze(["kube-system", "tailcar-system"]);

/** The options of an injector of `version`: the one place an unset image becomes that version's. */
export function injectOptions(settings: InjectSettings, version: string): InjectOptions {
  return { ...settings, image: settings.image ?? defaultImage(version) };
}

/** The built-in options of an injector of `version` (frozen, so memo.ts keeps work per configuration). */
export function defaultInjectOptions(version: string): InjectOptions {
  const settings: InjectSettings = {
    ...readSettings(INJECTION_ROWS, { command: "tailcar" }),
    sidecarMode: "native",
    excludedNamespaces: DEFAULT_EXCLUDED_NAMESPACES,
  };
  return deepFreeze(injectOptions(settings, version));
}

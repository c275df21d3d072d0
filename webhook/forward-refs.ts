// Where a forwarding sidecar's credentials and TLS material come from: Secrets and ConfigMaps of the
// pod's namespace, named in the webhook's configuration or a pod's annotation. The injector only
// mounts them (optional volumes, so a missing one never keeps the pod from starting); it never reads
// them, and a pod may name only what it could mount itself.
import { Invalid, type Kind } from "../settings/kind.ts";

/** A DNS-1123 subdomain: what Kubernetes accepts as a Secret's or ConfigMap's name. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_NAME = 253;
/** A Secret's or ConfigMap's key. */
const KEY = /^[-._a-zA-Z0-9]+$/;

function nameProblem(name: string): string | undefined {
  return name.length <= MAX_NAME && SUBDOMAIN.test(name) ? undefined : "is not a Kubernetes object name (lowercase letters, digits, - and ., at most 253)";
}

export const objectName: Kind<string> = {
  name: "Secret name",
  metavar: "NAME",
  parse: (t) => nameProblem(t) === undefined ? t : new Invalid(nameProblem(t)!),
  format: (v) => v,
};

export interface KeyRef {
  readonly kind: "configMap" | "secret";
  readonly name: string;
  readonly key: string;
}

/** The key a CA bundle is read from when none is named: cert-manager's, and kube-root-ca.crt's. */
export const DEFAULT_CA_KEY = "ca.crt";

/** `configmap/NAME[/KEY]` or `secret/NAME[/KEY]` (KEY default ca.crt). */
export const keyRef: Kind<KeyRef> = {
  name: "`configmap/NAME[/KEY]` or `secret/NAME[/KEY]` (KEY default `ca.crt`)",
  metavar: "configmap|secret/NAME[/KEY]",
  parse: (t) => {
    const [kind, name, key = DEFAULT_CA_KEY, ...rest] = t.split("/");
    const k = kind?.toLowerCase();
    if ((k !== "configmap" && k !== "secret") || name === undefined || rest.length > 0) return new Invalid("is not configmap/NAME[/KEY] or secret/NAME[/KEY]");
    const problem = nameProblem(name);
    if (problem !== undefined) return new Invalid(`names ${JSON.stringify(name)}, which ${problem}`);
    if (key.length > MAX_NAME || !KEY.test(key) || key === "." || key === "..") return new Invalid(`names the key ${JSON.stringify(key)}, which is not a key (letters, digits, -, _ and ., at most 253)`);
    return { kind: k === "configmap" ? "configMap" : "secret", name, key };
  },
  format: (v) => `${v.kind.toLowerCase()}/${v.name}/${v.key}`,
};

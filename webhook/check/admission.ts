// The end-to-end proof: a pod created with dryRun=All (nothing is stored) comes back from the API
// server with the tailcar.io/status annotation only if the API server called the webhook and the
// webhook injected it. The status also says the running webhook's version.
import { INJECT_LABEL, STATUS_ANNOTATION } from "../annotations.ts";
import { FILES_ANNOTATION } from "../file-entries.ts";
import { parseInjectStatus } from "../inject.ts";
import { inScope, type NamespaceView } from "../missed-pods.ts";
import type { Pod } from "../pod-types.ts";
import { INSTALLATION } from "./installation.ts";
import { fail, ok, skip, type CheckResult } from "./result.ts";

export const PROBE_FILE = "/var/log/tailcar-check/probe.log";
/** Labelled tailcar.io/inject=true, the probe is in scope in an enabled namespace and in an unlabelled one alike. */
const PROBE_LABELS = { [INJECT_LABEL]: "true" } as const;

/** A pod the webhook injects, admitted by Pod Security "restricted" (the sidecar runs as the app's user). */
export function probePod(): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { generateName: "tailcar-check-", labels: { ...PROBE_LABELS }, annotations: { [FILES_ANNOTATION]: PROBE_FILE } },
    spec: {
      securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532, seccompProfile: { type: "RuntimeDefault" } },
      containers: [{
        name: "app",
        image: "busybox:1.36",
        command: ["sleep", "1"],
        resources: { requests: { cpu: "1m", memory: "8Mi" }, limits: { memory: "8Mi" } },
        securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      }],
    },
  };
}

/** The first candidate namespace the shipped selectors would send the probe from (skipping absent ones). */
export function probeNamespace(candidates: readonly (NamespaceView | undefined)[], excluded: readonly string[]): string | undefined {
  return candidates.find((ns) => ns !== undefined && inScope(PROBE_LABELS, ns, excluded))?.metadata?.name;
}

export interface DryRunAnswer {
  readonly pod?: { readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> } };
  readonly error?: string;
}

export function checkDryRun(namespace: string | undefined, answer: DryRunAnswer | undefined, logsFix: string): { result: CheckResult; version?: string } {
  const id = "dry-run-admission";
  if (namespace === undefined || answer === undefined) {
    return { result: skip(INSTALLATION, id, "no dry-run admission: no namespace the webhook covers to try it in (give -n NAMESPACE, one labelled tailcar.io/injection=enabled)") };
  }
  if (answer.error !== undefined) {
    return { result: fail(INSTALLATION, id, `the API server refused a dry-run pod in namespace ${namespace}: ${answer.error}`, `if it names the webhook, it is unreachable or failing (the checks above, and ${logsFix}); otherwise an admission policy of the namespace refused the probe pod`) };
  }
  const status = parseInjectStatus(answer.pod?.metadata?.annotations?.[STATUS_ANNOTATION]);
  if (status === undefined) {
    return {
      result: fail(INSTALLATION, id, `a dry-run pod in namespace ${namespace} came back without ${STATUS_ANNOTATION}: the API server did not call the webhook, or it answered without injecting`,
        `check the checks above (with failurePolicy Ignore an unreachable webhook shows only here), the configuration's namespaceSelector and objectSelector, and ${logsFix}`),
    };
  }
  return { result: ok(INSTALLATION, id, `the webhook answered a dry-run pod in namespace ${namespace}: sidecar ${status.containers.join(", ")} injected by tailcar ${status.version}`), version: status.version };
}

// `tailcar uninject -f FILE|-`: the reverse of `tailcar inject`, like `istioctl x kube-uninject`.
// The same YAML handling (manifest-stream.ts); each pod's change is uninject() (uninject.ts).
import { renderHelp } from "../settings/help.ts";
import { readSettings } from "../settings/read.ts";
import type { Row } from "../settings/row.ts";
import {
  FILENAME_ROW, HELP_ROW, inputArgs, MAX_DOCUMENT_SIZE_ROW, runManifestCommand, STREAMING_HELP, type InputArgs, type ManifestChange,
} from "./manifest-stream.ts";
import { uninjectManifest } from "./workloads.ts";

export const UNINJECT_ROWS = [FILENAME_ROW, MAX_DOCUMENT_SIZE_ROW, HELP_ROW] as const satisfies readonly Row[];

const HELP = `Usage: tailcar uninject -f FILE|- [-f FILE …] [options]

Reads Kubernetes manifests (multi-document YAML) and removes from each pod what tailcar injected,
as its tailcar.io/status annotation records it: the sidecar containers, the volumes injection
added, their mounts in the app containers, and the annotation itself (tailcar.io/files and the
other annotations stay). Pods, the pod templates of Deployments, StatefulSets, DaemonSets,
ReplicaSets, ReplicationControllers, Jobs and CronJobs, and the items of a List; other kinds pass
through unchanged. A pod without the annotation is left as it is, with a warning; one whose
annotation names a sidecar or volume it does not have loses the rest, with a warning. Comments,
key order and quoting are kept. Warnings go to stderr, prefixed with the object they are about.

Options:
${renderHelp(UNINJECT_ROWS)}

${STREAMING_HELP}

Example: kubectl get deploy web -o yaml | tailcar uninject -f - | kubectl apply -f -
`;

/** Throws SettingsError naming the flag of a bad value. */
export function parseUninjectArgs(argv: readonly string[]): InputArgs {
  return inputArgs(readSettings(UNINJECT_ROWS, { argv, command: "tailcar uninject" }));
}

/** `tailcar uninject`'s change to one object. */
export const uninjection: ManifestChange = (object, where) => uninjectManifest(object, where);

export function run(argv: readonly string[]): Promise<number> {
  return runManifestCommand(argv, { name: "tailcar uninject", usage: HELP, parse: parseUninjectArgs, change: () => uninjection });
}

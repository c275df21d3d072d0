// `tailcar inject -f FILE|-`: offline injection, like `istioctl kube-inject`. YAML in (many
// documents, many files), YAML out on stdout, warnings on stderr.
import { renderHelp } from "../settings/help.ts";
import { readSettings, SettingsError } from "../settings/read.ts";
import type { Row } from "../settings/row.ts";
import { deepFreeze } from "./deep-freeze.ts";
import { INJECTION_ROWS } from "./injection-rows.ts";
import { conflicts } from "./combinations.ts";
import {
  changeInputs, DEFAULT_MAX_DOCUMENT_MIB, FILENAME_ROW, HELP_ROW, inputArgs, MAX_DOCUMENT_SIZE_ROW, runManifestCommand, STREAMING_HELP, type InputArgs,
  type ManifestChange, type ManifestIo,
} from "./manifest-stream.ts";
import { DEFAULT_EXCLUDED_NAMESPACES, injectOptions, type InjectOptions } from "./options.ts";
import { packageVersion } from "./package-version.ts";
import { injectManifest } from "./workloads.ts";

export { DEFAULT_MAX_DOCUMENT_MIB };

/** `tailcar inject`'s rows: its own, and every injection setting the webhook takes, by the same flag. */
export const INJECT_ROWS = [
  FILENAME_ROW,
  // Their environment variables and config keys are the webhook's: inject reads only its flags.
  ...INJECTION_ROWS,
  MAX_DOCUMENT_SIZE_ROW,
  HELP_ROW,
] as const satisfies readonly Row[];

const flagOf = (key: string): string => INJECT_ROWS.find((r) => r.key === key)!.flag!;

const HELP = `Usage: tailcar inject -f FILE|- [-f FILE …] [options]

Reads Kubernetes manifests (multi-document YAML), adds one streaming sidecar per file named in each
pod's tailcar.io/files annotation (Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
CronJobs, Lists), and writes the result to stdout. Other kinds pass through unchanged. Comments,
key order and quoting are kept; JSON input, and a document with a YAML alias on a changed path,
come out as block YAML written anew.
Warnings go to stderr, prefixed with the object they are about.

Options (the injection settings are the webhook's, by the same flags and rules; pods' tailcar.io/
annotations override the per-pod ones as they do in the cluster):
${renderHelp(INJECT_ROWS)}

${STREAMING_HELP}

Example: kubectl get deploy web -o yaml | tailcar inject -f - | kubectl apply -f -
`;

export interface InjectArgs extends InputArgs {
  readonly options: InjectOptions;
}

/**
 * `version`: the injector's, whose sidecar image is the default. Throws SettingsError naming the
 * flag of a bad value, as the webhook does at start-up.
 */
export function parseInjectArgs(argv: readonly string[], version: string): InjectArgs {
  const { filename, maxDocumentSize, help, sidecarMode, ...injection } = readSettings(INJECT_ROWS, { argv, command: "tailcar inject" });
  const input = inputArgs({ filename, maxDocumentSize, help });
  // The same rules between settings as the webhook's defaults at its start-up.
  for (const conflict of conflicts(injection)) throw new SettingsError(`${conflict.keys.map(flagOf).join(", ")}: ${conflict.problem(flagOf)}`);
  // No API server to ask the version of: auto means native (Kubernetes 1.29 and later).
  const options = injectOptions({ ...injection, sidecarMode: sidecarMode === "classic" ? "classic" : "native", excludedNamespaces: DEFAULT_EXCLUDED_NAMESPACES }, version);
  return { ...input, options: deepFreeze(options) };
}

/** `tailcar inject`'s change to one object: its pods injected by an injector of `version`. */
export function injection(options: InjectOptions, version: string): ManifestChange {
  return (object, where) => injectManifest(object, options, version, where);
}

/** Injects every document of every input, in order, as it is read (manifest-stream.ts). */
export function injectInputs(files: readonly string[], options: InjectOptions, version: string, io: ManifestIo): Promise<void> {
  return changeInputs(files, injection(options, version), io);
}

export function run(argv: readonly string[]): Promise<number> {
  const version = packageVersion();
  return runManifestCommand(argv, {
    name: "tailcar inject",
    usage: HELP,
    parse: (args) => parseInjectArgs(args, version),
    change: (args) => injection(args.options, version),
  });
}

// `tailcar check`: reads the objects (cluster.ts, or manifests offline), hands them to the pure
// checks, renders the checklist, and exits 1 when something is wrong.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";
import { renderHelp } from "../../settings/help.ts";
import { readCommandLine } from "../../settings/command-line.ts";
import { readSettings, SettingsError } from "../../settings/read.ts";
import type { ValuesOf } from "../../settings/row.ts";
import { NAMESPACE_LABEL } from "../annotations.ts";
import { inject } from "../inject.ts";
import { CHECK_INJECT_OPTIONS } from "./inject-defaults.ts";
import { packageVersion } from "../package-version.ts";
import { manifestPods } from "../workloads.ts";
import { CHECK_ROWS } from "./rows.ts";
import { renderJson, renderText, type Report } from "./render.ts";
import { exitCodeOf, fail, type CheckResult } from "./result.ts";
import { checkAnnotations, checkInjectedPod, checkNotInjected, type PodInput } from "./pod-files.ts";

const HELP = `Usage: tailcar check [pod NAME] [options]
       tailcar check -f FILE|- [-f FILE …]

Diagnoses tailcar in the cluster of the current kubeconfig context, as a checklist: ✓ passed,
✗ a problem (with the fix under it), ‼ a warning (with a fix), – not checked (with why).

  tailcar check              the installation: the MutatingWebhookConfiguration and its
                             failurePolicy, the webhook Deployment and Service endpoints, the
                             serving certificate against the caBundle (and days to expiry), and
                             a dry-run pod the webhook must answer
  tailcar check -n NS        also namespace NS: its label, pods admitted without sidecars, pods
                             whose sidecars are of another version than the webhook's
  tailcar check pod NAME     also one pod: each file of tailcar.io/files, its sidecar and volume,
                             whether the sidecar's user can read it, whether tailcar hid image
                             content with an emptyDir, the sidecar's state and metrics
  tailcar check -f FILE      the pods of a manifest, offline: injected as the webhook would, then
                             checked like a pod (no cluster needed)

Exit status: 0 when nothing failed (warnings allowed), 1 when a check failed, 2 for a wrong
command line. See docs/check.md.

Options:
${renderHelp(CHECK_ROWS)}
`;

export type CheckArgs = ValuesOf<typeof CHECK_ROWS> & { readonly pod?: string };

/** Throws SettingsError for a wrong command line. */
export function parseCheckArgs(argv: readonly string[]): CheckArgs {
  // `pod NAME` may stand anywhere among the options, as in kubectl: found by skipping each option's value.
  const takesValue = new Set(CHECK_ROWS.filter((r) => !r.kind.boolean).flatMap((r) => [r.flag, ...(r.short === undefined ? [] : [`-${r.short}`])]));
  let at = 0;
  while (at < argv.length && (argv[at]!.startsWith("-") || takesValue.has(argv[at - 1] ?? ""))) at++;
  let pod: string | undefined;
  let rest = argv;
  if (argv[at] === "pod") {
    pod = argv[at + 1];
    if (pod === undefined || pod.startsWith("-")) throw new SettingsError("pod needs a NAME: tailcar check pod NAME [-n NAMESPACE]");
    rest = [...argv.slice(0, at), ...argv.slice(at + 2)];
  }
  const values = readSettings(CHECK_ROWS, { argv: rest, command: "tailcar check" });
  if (values.filename.length > 0 && (pod !== undefined || values.namespace !== undefined)) {
    throw new SettingsError("-f checks manifests offline; give either -f FILE or a cluster's pod NAME / -n NAMESPACE");
  }
  return { ...values, ...(pod !== undefined && { pod }) };
}

/** How much of a manifest is read: far more than any object the API server stores (1.5 MiB). */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

function readManifest(file: string): string {
  const text = readFileSync(file === "-" ? 0 : file);
  if (text.length > MAX_MANIFEST_BYTES) throw new Error(`${file}: larger than ${MAX_MANIFEST_BYTES / 1024 / 1024} MiB`);
  return text.toString("utf8");
}

/** The pods of manifests, each injected as the webhook would (unless it already is), then checked. */
export function checkManifests(files: readonly { readonly name: string; readonly text: string }[]): CheckResult[] {
  const results: CheckResult[] = [];
  const version = packageVersion();
  for (const { name, text } of files) {
    const docs = parseAllDocuments(text);
    for (const [i, doc] of docs.entries()) {
      if (doc.errors.length > 0) throw new Error(`${name}: document ${i + 1}: ${doc.errors[0]!.message}`);
      for (const { label, pod } of manifestPods(doc.toJS(), `${name} document ${i + 1}`)) {
        const group = `${label} (${name})`;
        const result = inject(pod, CHECK_INJECT_OPTIONS, { version });
        const input: PodInput = { group, pod: result.injected.length > 0 ? result.pod : pod, injectWarnings: result.warnings };
        results.push(...checkAnnotations(input));
        results.push(...(result.skipped === "already-injected" || result.injected.length > 0 ? checkInjectedPod(input) : checkNotInjected(input, undefined, "recreate it")));
      }
    }
  }
  if (results.length === 0) results.push(fail("manifests", "pods", `no pod asking for sidecars in ${files.map((f) => f.name).join(", ")}`, `annotate the pod template with tailcar.io/files (docs/annotations.md); the namespace label is ${NAMESPACE_LABEL}`));
  return results;
}

export async function run(argv: readonly string[]): Promise<number> {
  const args = readCommandLine("tailcar check", HELP, () => parseCheckArgs(argv));
  if (typeof args === "number") return args;
  let report: Report;
  try {
    if (args.filename.length > 0) {
      const files = args.filename.map((f) => ({ name: f === "-" ? "<stdin>" : f, text: readManifest(f) }));
      report = { target: "manifests (offline)", results: checkManifests(files) };
    } else {
      // Loaded only here: the Kubernetes client takes about 2 s to import.
      const { checkCluster } = await import("./check-cluster.ts");
      report = await checkCluster(args);
    }
  } catch (e) {
    process.stderr.write(`tailcar check: ${(e as Error).message}\n`);
    return 1;
  }
  process.stdout.write(args.output === "json" ? renderJson(report) : renderText(report));
  // A request aborted by --request-timeout can leave its socket open for seconds (the client does
  // not destroy a TLS handshake in flight); once the report is written nothing is left to wait for.
  // Unref'd: a process with nothing open exits by itself, with the exit code cli/main.ts sets.
  if (args.filename.length === 0) setTimeout(() => process.exit(), 50).unref();
  return exitCodeOf(report.results);
}


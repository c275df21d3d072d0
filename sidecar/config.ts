// The sidecar's settings as it runs with them: the rows of settings/sidecar-rows.ts (the contract
// with the injector, which writes them into the pod with toEnv) read by the settings engine from
// flags over environment over defaults, the checks that involve two settings, and the pod metadata.
import { readSettings, SettingsError } from "../settings/read.ts";
import { formatSize } from "../settings/size.ts";
import { globProblem, isGlob } from "../settings/file-glob.ts";
import { MIN_RECLAIM_STEP, POD_ENV, SIDECAR_ROWS, type SidecarValues } from "../settings/sidecar-rows.ts";

export type { OutputFormat, SinkKind, StartPosition } from "../settings/vocabulary.ts";
export { SettingsError };

export interface PodMetadata {
  readonly podName?: string;
  readonly podNamespace?: string;
  readonly nodeName?: string;
  readonly containerName?: string;
}

/**
 * One value per row of SIDECAR_ROWS (durations in milliseconds, sizes in bytes; checkpointDir,
 * multiline, metricsPort, reclaim and endpoint undefined when not given), and the pod's metadata.
 */
export type SidecarConfig = Readonly<SidecarValues> & { readonly pod: PodMetadata };

/** Flags (argv without the subcommand) over environment over defaults. Throws SettingsError naming the flag or variable. */
export function parseSidecarConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): SidecarConfig {
  const values = readSettings(SIDECAR_ROWS, { argv, env, command: "tailcar sidecar" });
  if (values.files.length === 0) throw new SettingsError("no file to follow: give --file PATH (or TAILCAR_FILES)");
  if (values.multiline !== undefined && values.format !== "json") throw new SettingsError("--multiline needs --format json (raw copies bytes as they are)");
  if (values.reclaim !== undefined && values.checkpointDir === undefined) throw new SettingsError("--reclaim needs --checkpoint-dir: only a prefix recorded in a saved checkpoint is freed");
  if (values.reclaim !== undefined && values.reclaim < MIN_RECLAIM_STEP) throw new SettingsError(`--reclaim ${formatSize(values.reclaim)}: at least ${formatSize(MIN_RECLAIM_STEP)} (each step runs fallocate once)`);
  if (values.prefixFileName && values.format !== "raw") throw new SettingsError('--prefix-file-name is for --format raw (json records carry the path in "file")');
  if (values.prefixFileName && values.sink !== "stdout") throw new SettingsError(`--prefix-file-name is for stdout (--sink ${values.sink} sends the path in a field of its own)`);
  for (const entry of values.files) {
    const problem = isGlob(entry) ? globProblem(entry) : undefined;
    if (problem !== undefined) throw new SettingsError(`--file ${JSON.stringify(entry)}: ${problem}`);
  }
  if (values.sink !== "stdout" && values.endpoint === undefined) throw new SettingsError(`--sink ${values.sink} needs --endpoint URL`);
  const forwardProblem = forwardingProblem(values);
  if (forwardProblem !== undefined) throw new SettingsError(forwardProblem);
  return {
    ...values,
    pod: {
      podName: env[POD_ENV.podName] || undefined,
      podNamespace: env[POD_ENV.podNamespace] || undefined,
      nodeName: env[POD_ENV.nodeName] || undefined,
      containerName: env[POD_ENV.containerName] || undefined,
    },
  };
}

/** What is wrong with the forwarding settings together (credentials, TLS), or undefined. */
export function forwardingProblem(v: SidecarValues): string | undefined {
  if ((v.certFile === undefined) !== (v.keyFile === undefined)) return "--cert-file and --key-file go together (a client certificate and its key)";
  if (v.endpoint === undefined) return undefined;
  const url = new URL(v.endpoint);
  if (v.authDir !== undefined && (url.username !== "" || url.password !== "")) return "--auth-dir and credentials in --endpoint (user:password@): give them in one place";
  const tlsFile = v.caFile !== undefined ? "--ca-file" : v.certFile !== undefined ? "--cert-file" : undefined;
  if (tlsFile !== undefined && url.protocol !== "https:") return `${tlsFile} needs an https:// --endpoint`;
  return undefined;
}

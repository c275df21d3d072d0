// The one schema of the sidecar's settings. The webhook writes it into the pod as environment
// variables (toEnv); the sidecar reads flags and environment (parseSidecarConfig). Keeping both
// directions here means the contract between injector and tailer lives in one file.

import { endpointProblem } from "../settings/endpoint.ts";
import { POD_ENV } from "../settings/sidecar-rows.ts";
import { redactUrlText } from "../settings/url-credentials.ts";
import type { OutputFormat, SinkKind, StartPosition } from "../settings/vocabulary.ts";

// Moved to settings/ (the contract both halves import); re-exported while this parser moves onto the engine.
export { endpointProblem } from "../settings/endpoint.ts";
export { POD_ENV, toEnv, type SidecarSettings } from "../settings/sidecar-rows.ts";
export type { OutputFormat, SinkKind, StartPosition } from "../settings/vocabulary.ts";

export interface PodMetadata {
  readonly podName?: string;
  readonly podNamespace?: string;
  readonly nodeName?: string;
  readonly containerName?: string;
}

export interface SidecarConfig {
  readonly files: readonly string[];
  /** Where checkpoints are kept; undefined disables them. */
  readonly checkpointDir: string | undefined;
  readonly from: StartPosition;
  readonly format: OutputFormat;
  /** A final line without its newline is written after this long. */
  readonly partialFlushMs: number;
  readonly maxLineBytes: number;
  /** "java", "python", or a regular expression that starts a new record; undefined: off. */
  readonly multiline: string | undefined;
  readonly multilineTimeoutMs: number;
  readonly drainTimeoutMs: number;
  readonly checkpointIntervalMs: number;
  /** How often a followed file is stat'ed when no fs.watch event arrives. */
  readonly pollIntervalMs: number;
  /** The same once the file has been quiet for 10 s under a standing fs.watch (poll-pace.ts). */
  readonly quietPollIntervalMs: number;
  readonly metricsPort: number | undefined;
  readonly sink: SinkKind;
  /** Base URL of the backend for the elasticsearch and loki sinks; user:password@ in it is sent as basic auth. */
  readonly endpoint: string | undefined;
  readonly pod: PodMetadata;
}

export const DEFAULTS = {
  from: "start",
  format: "raw",
  partialFlushMs: 1000,
  maxLineBytes: 1024 * 1024,
  multilineTimeoutMs: 1000,
  drainTimeoutMs: 5000,
  checkpointIntervalMs: 1000,
  pollIntervalMs: 250,
  quietPollIntervalMs: 1000,
  sink: "stdout",
} as const satisfies Partial<SidecarConfig>;

/** One row per setting: its flag, its environment variable, and what it means (for --help and docs). */
export const SETTINGS = [
  { key: "files", flag: "--file", env: "TAILCAR_FILES", help: "file to follow; repeat the flag, or separate by commas/newlines in the variable" },
  { key: "checkpointDir", flag: "--checkpoint-dir", env: "TAILCAR_CHECKPOINT_DIR", help: "directory for checkpoints (resume after restart); unset: no checkpoints" },
  { key: "from", flag: "--from", env: "TAILCAR_FROM", help: "start|end: where to begin a file seen for the first time (default start, like tail -n+1)" },
  { key: "format", flag: "--format", env: "TAILCAR_FORMAT", help: "raw|json: copy bytes, or one JSON object per line (default raw)" },
  { key: "partialFlushMs", flag: "--partial-flush", env: "TAILCAR_PARTIAL_FLUSH", help: "duration after which a last line without newline is written (default 1s)" },
  { key: "maxLineBytes", flag: "--max-line-bytes", env: "TAILCAR_MAX_LINE_BYTES", help: "lines longer than this are split with a marker (default 1Mi)" },
  { key: "multiline", flag: "--multiline", env: "TAILCAR_MULTILINE", help: "json format only: java|python|REGEX that starts a record (default off)" },
  { key: "multilineTimeoutMs", flag: "--multiline-timeout", env: "TAILCAR_MULTILINE_TIMEOUT", help: "flush a pending multiline record after this duration (default 1s)" },
  { key: "drainTimeoutMs", flag: "--drain-timeout", env: "TAILCAR_DRAIN_TIMEOUT", help: "on SIGTERM, keep reading to the end of the files for at most this long, checkpoint save included (default 5s)" },
  { key: "checkpointIntervalMs", flag: "--checkpoint-interval", env: "TAILCAR_CHECKPOINT_INTERVAL", help: "how often checkpoints are saved (default 1s)" },
  { key: "pollIntervalMs", flag: "--poll-interval", env: "TAILCAR_POLL_INTERVAL", help: "stat poll interval, the truth behind fs.watch hints (default 250ms)" },
  { key: "quietPollIntervalMs", flag: "--quiet-poll-interval", env: "TAILCAR_QUIET_POLL_INTERVAL", help: "the same for a file quiet for 10 s while fs.watch watches it; never below --poll-interval (default 1s)" },
  { key: "metricsPort", flag: "--metrics-port", env: "TAILCAR_METRICS_PORT", help: "serve Prometheus metrics on this port (default off)" },
  { key: "sink", flag: "--sink", env: "TAILCAR_SINK", help: "stdout|elasticsearch|loki (default stdout)" },
  { key: "endpoint", flag: "--endpoint", env: "TAILCAR_ENDPOINT", help: "backend base URL for the elasticsearch and loki sinks; user:password@ in it is sent as basic auth and redacted from output" },
] as const satisfies readonly { key: keyof SidecarConfig; flag: string; env: string; help: string }[];

export class ConfigError extends Error {
  override name = "ConfigError";
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "250ms", "1s", "2m", or a bare number of milliseconds. */
export function parseDuration(value: string, what: string): number {
  const m = DURATION.exec(value.trim());
  if (!m) throw new ConfigError(`${what}: "${value}" is not a duration (examples: 500ms, 1s, 2m)`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? "ms"]!);
}

const SIZE = /^(\d+)(Ki|Mi|Gi|k|M|G)?$/;
const UNIT_BYTES: Record<string, number> = { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, k: 1e3, M: 1e6, G: 1e9 };

/** "4096", "64Ki", "1Mi": Kubernetes-style binary and decimal suffixes. */
export function parseSize(value: string, what: string): number {
  const m = SIZE.exec(value.trim());
  if (!m) throw new ConfigError(`${what}: "${value}" is not a size (examples: 65536, 64Ki, 1Mi)`);
  const n = Number(m[1]) * (m[2] ? UNIT_BYTES[m[2]]! : 1);
  if (n < 1) throw new ConfigError(`${what}: must be at least 1 byte`);
  return n;
}

function oneOf<T extends string>(value: string, allowed: readonly T[], what: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`${what}: "${value}" is not one of ${allowed.join(", ")}`);
}

function splitList(value: string): string[] {
  return value.split(/[,\n]/).map((s) => s.trim()).filter((s) => s.length > 0);
}

type Raw = Partial<Record<(typeof SETTINGS)[number]["key"], string[]>>;

function collect(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Raw {
  const raw: Raw = {};
  for (const s of SETTINGS) {
    const v = env[s.env];
    if (v !== undefined && v !== "") raw[s.key] = s.key === "files" ? splitList(v) : [v];
  }
  const fromFlags: Raw = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const setting = SETTINGS.find((s) => s.flag === flag);
    if (!setting) throw new ConfigError(`unknown option "${arg}" (see tailcar sidecar --help)`);
    let value: string | undefined = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ConfigError(`${flag} needs a value`);
    (fromFlags[setting.key] ??= []).push(value);
  }
  // Flags win over the environment, setting by setting.
  return { ...raw, ...fromFlags };
}

/** Flags (argv without the subcommand) over environment over defaults. Throws ConfigError with the setting's name. */
export function parseSidecarConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
): SidecarConfig {
  const raw = collect(argv, env);
  const one = (key: keyof Raw): string | undefined => raw[key]?.at(-1);
  const files = raw.files ?? [];
  if (files.length === 0) throw new ConfigError("no file to follow: give --file PATH (or TAILCAR_FILES)");
  const multiline = one("multiline");
  const format = oneOf(one("format") ?? DEFAULTS.format, ["raw", "json"] as const, "--format");
  if (multiline !== undefined) {
    if (format !== "json") throw new ConfigError("--multiline needs --format json (raw copies bytes as they are)");
    if (multiline !== "java" && multiline !== "python") {
      try {
        new RegExp(multiline);
      } catch (e) {
        throw new ConfigError(`--multiline: "${multiline}" is not a regular expression: ${(e as Error).message}`);
      }
    }
  }
  const sink = oneOf(one("sink") ?? DEFAULTS.sink, ["stdout", "elasticsearch", "loki"] as const, "--sink");
  const endpoint = one("endpoint");
  if (sink !== "stdout") {
    if (endpoint === undefined) throw new ConfigError(`--sink ${sink} needs --endpoint URL`);
    const problem = endpointProblem(endpoint);
    if (problem !== undefined) throw new ConfigError(`--endpoint: ${JSON.stringify(redactUrlText(endpoint))} ${problem}`);
  }
  const metricsPort = one("metricsPort");
  let port: number | undefined;
  if (metricsPort !== undefined) {
    port = Number(metricsPort);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`--metrics-port: "${metricsPort}" is not a port`);
  }
  const dur = (key: keyof Raw, flag: string, dflt: number): number => {
    const v = one(key);
    return v === undefined ? dflt : parseDuration(v, flag);
  };
  return {
    files,
    checkpointDir: one("checkpointDir"),
    from: oneOf(one("from") ?? DEFAULTS.from, ["start", "end"] as const, "--from"),
    format,
    partialFlushMs: dur("partialFlushMs", "--partial-flush", DEFAULTS.partialFlushMs),
    maxLineBytes: one("maxLineBytes") === undefined ? DEFAULTS.maxLineBytes : parseSize(one("maxLineBytes")!, "--max-line-bytes"),
    multiline,
    multilineTimeoutMs: dur("multilineTimeoutMs", "--multiline-timeout", DEFAULTS.multilineTimeoutMs),
    drainTimeoutMs: dur("drainTimeoutMs", "--drain-timeout", DEFAULTS.drainTimeoutMs),
    checkpointIntervalMs: dur("checkpointIntervalMs", "--checkpoint-interval", DEFAULTS.checkpointIntervalMs),
    pollIntervalMs: dur("pollIntervalMs", "--poll-interval", DEFAULTS.pollIntervalMs),
    quietPollIntervalMs: dur("quietPollIntervalMs", "--quiet-poll-interval", DEFAULTS.quietPollIntervalMs),
    metricsPort: port,
    sink,
    endpoint,
    pod: {
      podName: env[POD_ENV.podName] || undefined,
      podNamespace: env[POD_ENV.podNamespace] || undefined,
      nodeName: env[POD_ENV.nodeName] || undefined,
      containerName: env[POD_ENV.containerName] || undefined,
    },
  };
}

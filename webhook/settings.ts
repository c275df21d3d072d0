// Every setting of `tailcar webhook` in one table: its flag, its environment variable, its config
// file key, its default and what it means (vault-k8s style: one place documents them all, and
// --help and docs/webhook.md are written from it). Precedence: flags > environment > file > defaults.
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { endpointProblem } from "../sidecar/config.ts";
import { redactCredentials } from "../settings/url-credentials.ts";
import { imageReferenceProblem } from "./image-reference.ts";
import { DEFAULT_INJECT_OPTIONS, DELIVERY_MODES, MAX_SIDECARS_PER_POD_CEILING, FORWARD_SINKS, PULL_POLICIES, type InjectOptions } from "./options.ts";

export type SidecarModeSetting = "native" | "classic" | "auto";

export interface WebhookSettings {
  readonly port: number;
  /** Empty: all interfaces. */
  readonly address: string;
  readonly tlsCert: string | undefined;
  readonly tlsKey: string | undefined;
  readonly tlsReloadIntervalMs: number;
  readonly selfSigned: boolean;
  readonly caFile: string | undefined;
  readonly selfBootstrap: boolean;
  readonly service: string;
  readonly namespace: string;
  readonly webhookConfig: string;
  readonly secret: string;
  readonly certIps: readonly string[];
  readonly kubeconfig: string | undefined;
  readonly sidecarMode: SidecarModeSetting;
  readonly shutdownGraceMs: number;
  /** Only acted on when the webhook has API access (see webhook/missed-pods.ts). */
  readonly reportMissedPods: boolean;
  readonly missedPodsIntervalMs: number;
  /** Injection defaults; sidecarMode is resolved from the setting above at start-up. */
  readonly inject: Omit<InjectOptions, "sidecarMode">;
}

export class SettingsError extends Error {
  override name = "SettingsError";
}

type Kind = "string" | "int" | "count" | "image" | "bool" | "list" | "duration" | "quantity" | "url" | readonly string[];

interface Setting {
  readonly key: string;
  readonly flag: string;
  readonly env: string;
  readonly kind: Kind;
  readonly default: string;
  readonly help: string;
}

const D = DEFAULT_INJECT_OPTIONS;
const row = (key: string, kind: Kind, dflt: string, help: string): Setting => ({
  key,
  flag: `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`,
  env: `TAILCAR_WEBHOOK_${key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`,
  kind,
  default: dflt,
  help,
});

export const SETTINGS: readonly Setting[] = [
  row("image", "image", D.image, "sidecar image (checked against the image reference grammar at start-up)"),
  row("imagePullPolicy", PULL_POLICIES, D.imagePullPolicy, "sidecar imagePullPolicy"),
  row("sidecarMode", ["native", "classic", "auto"], "auto", "native (init container, restartPolicy Always; Kubernetes >= 1.29), classic, or auto (from the API server's version; classic if unknown)"),
  row("mode", DELIVERY_MODES, D.mode, "stream (sidecar writes the file to its stdout) or forward (to a backend)"),
  row("format", ["raw", "json"], D.format, "sidecar output: raw bytes or one JSON object per line"),
  row("forwardSink", FORWARD_SINKS, D.forwardSink ?? "", "default backend for mode forward"),
  row("forwardEndpoint", "url", D.forwardEndpoint ?? "", "default backend URL for mode forward"),
  row("cpuRequest", "quantity", D.resources.requests.cpu, "sidecar CPU request"),
  row("memoryRequest", "quantity", D.resources.requests.memory, "sidecar memory request"),
  row("cpuLimit", "quantity", D.resources.limits.cpu ?? "", "sidecar CPU limit (empty: none)"),
  row("memoryLimit", "quantity", D.resources.limits.memory, "sidecar memory limit"),
  row("checkpointVolumeSizeLimit", "quantity", D.checkpointVolumeSizeLimit, "sizeLimit of the checkpoint emptyDir"),
  row("maxSidecarsPerPod", "count", String(D.maxSidecarsPerPod), "sidecars one pod may get (one a file); later entries of tailcar.io/files are ignored with a warning; no annotation raises it"),
  row("port", "int", "8443", "HTTPS port (0: any free port, logged at start)"),
  row("address", "string", "", "listen address (empty: all interfaces; 127.0.0.1 with --self-signed)"),
  row("tlsCert", "string", "", "serving certificate file (PEM), reloaded when it changes"),
  row("tlsKey", "string", "", "private key file (PEM) of --tls-cert"),
  row("tlsReloadInterval", "duration", "10s", "how often the TLS files are re-read (file watches are only a hint)"),
  row("selfSigned", "bool", "false", "local use: a fresh CA and certificate for 127.0.0.1/localhost; the CA is written to --ca-file"),
  row("caFile", "string", "", "with --self-signed: where to write the CA (default: a new temporary directory)"),
  row("selfBootstrap", "bool", "false", "in-cluster: keep a CA and certificate in --secret and patch the caBundle of --webhook-config"),
  row("service", "string", "tailcar-webhook", "with --self-bootstrap: the Service name in the certificate"),
  row("namespace", "string", "tailcar-system", "the webhook's own namespace, never injected (nor is kube-system); with --self-bootstrap also that of the Service and the Secret"),
  row("webhookConfig", "string", "tailcar", "with --self-bootstrap: MutatingWebhookConfiguration whose caBundle is patched"),
  row("secret", "string", "tailcar-webhook-tls", "with --self-bootstrap: Secret holding the certificate"),
  row("certIp", "list", "", "with --self-bootstrap: extra IP SANs, comma-separated or repeated"),
  row("kubeconfig", "string", "", "kubeconfig file (default: the service account in a pod, else KUBECONFIG or ~/.kube/config)"),
  row("shutdownGrace", "duration", "10s", "on SIGTERM, how long in-flight requests may take before connections are closed"),
  row("reportMissedPods", "bool", "true", "with API access (--self-bootstrap, --kubeconfig or in a pod): report pods admitted without sidecars while the webhook was down (log, Event, metric)"),
  row("missedPodsInterval", "duration", "5m", "how often --report-missed-pods scans again"),
  row("config", "string", "", "YAML or JSON file of settings, keyed by the names in this table's first column"),
];

const QUANTITY = /^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+|[numkMGTPE]|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function check(s: Setting, value: string, source: string): string {
  const bad = (why: string): never => {
    // A URL's user:password@ must not reach the log that reports the bad setting.
    throw new SettingsError(`${source}: "${redactCredentials(value)}" ${why}`);
  };
  if (typeof s.kind !== "string") {
    if (value !== "" && !s.kind.includes(value)) bad(`is not one of ${s.kind.join(", ")}`);
  } else if (s.kind === "int") {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 0 || n > 65535) bad("is not a port number (0-65535)");
  } else if (s.kind === "count") {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1 || n > MAX_SIDECARS_PER_POD_CEILING) bad(`is not a whole number from 1 to ${MAX_SIDECARS_PER_POD_CEILING}`);
  } else if (s.kind === "image") {
    const problem = imageReferenceProblem(value);
    if (problem !== undefined) bad(problem);
  } else if (s.kind === "bool") {
    if (!["true", "false", "1", "0", ""].includes(value)) bad("is not true or false");
  } else if (s.kind === "duration") {
    if (!DURATION.test(value)) bad("is not a duration (examples: 500ms, 10s, 2m)");
  } else if (s.kind === "quantity") {
    if (value !== "" && !QUANTITY.test(value)) bad("is not a Kubernetes quantity (examples: 10m, 0.5, 64Mi)");
  } else if (s.kind === "url" && value !== "") {
    // The sidecar's own check: an endpoint it would refuse at start must not reach the pods.
    const problem = endpointProblem(value);
    if (problem !== undefined) throw new SettingsError(`${source}: ${problem}`);
  }
  return value;
}

type Values = Map<string, string[]>;

function fromFlags(argv: readonly string[]): Values {
  const values: Values = new Map();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const s = SETTINGS.find((x) => x.flag === flag);
    if (!s) throw new SettingsError(`unknown option "${arg}" (see tailcar webhook --help)`);
    let value: string | undefined = eq > 0 ? arg.slice(eq + 1) : undefined;
    if (value === undefined) {
      // A boolean flag alone means true; otherwise the next argument is the value.
      if (s.kind === "bool" && (argv[i + 1] === undefined || argv[i + 1]!.startsWith("--"))) value = "true";
      else value = argv[++i];
    }
    if (value === undefined) throw new SettingsError(`${flag} needs a value`);
    values.set(s.key, [...(values.get(s.key) ?? []), check(s, value, flag)]);
  }
  return values;
}

function fromEnv(env: Readonly<Record<string, string | undefined>>): Values {
  const values: Values = new Map();
  for (const s of SETTINGS) {
    const v = env[s.env];
    if (v !== undefined && v !== "") values.set(s.key, [check(s, v, s.env)]);
  }
  return values;
}

function fromFile(path: string, read: (path: string) => string): Values {
  let doc: unknown;
  try {
    doc = parseYaml(read(path));
  } catch (e) {
    throw new SettingsError(`--config ${path}: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return new Map();
  if (typeof doc !== "object" || Array.isArray(doc)) throw new SettingsError(`--config ${path}: must be a mapping of setting names to values`);
  const values: Values = new Map();
  for (const [key, raw] of Object.entries(doc)) {
    const s = SETTINGS.find((x) => x.key === key && x.key !== "config");
    if (!s) throw new SettingsError(`--config ${path}: unknown setting "${key}" (known: ${SETTINGS.map((x) => x.key).filter((k) => k !== "config").join(", ")})`);
    const list = Array.isArray(raw) ? raw : [raw];
    for (const item of list) {
      if (!["string", "number", "boolean"].includes(typeof item)) throw new SettingsError(`--config ${path}: ${key} must be a string, number or boolean`);
    }
    values.set(key, list.map((item) => check(s, String(item), `--config ${path}: ${key}`)));
  }
  return values;
}

export function parseWebhookSettings(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  read: (path: string) => string = (p) => readFileSync(p, "utf8"),
): WebhookSettings {
  const flags = fromFlags(argv);
  const environment = fromEnv(env);
  const configPath = flags.get("config")?.at(-1) ?? environment.get("config")?.at(-1);
  const file = configPath ? fromFile(configPath, read) : new Map<string, string[]>();
  const all = (key: string): string[] => flags.get(key) ?? environment.get(key) ?? file.get(key) ?? [];
  const one = (key: string): string => all(key).at(-1) ?? SETTINGS.find((s) => s.key === key)!.default;
  const opt = (key: string): string | undefined => one(key) || undefined;
  const bool = (key: string): boolean => ["true", "1"].includes(one(key));
  const ms = (key: string): number => {
    const m = DURATION.exec(one(key))!;
    return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? "ms"]!);
  };

  const tlsCert = opt("tlsCert");
  const tlsKey = opt("tlsKey");
  const selfSigned = bool("selfSigned");
  const selfBootstrap = bool("selfBootstrap");
  if ((tlsCert === undefined) !== (tlsKey === undefined)) throw new SettingsError("--tls-cert and --tls-key go together: give both");
  const sources = [tlsCert !== undefined && "--tls-cert/--tls-key", selfSigned && "--self-signed", selfBootstrap && "--self-bootstrap"].filter(Boolean);
  if (sources.length === 0) throw new SettingsError("no TLS source: give --tls-cert FILE --tls-key FILE, --self-bootstrap (in a cluster) or --self-signed (local)");
  if (sources.length > 1) throw new SettingsError(`choose one TLS source, not ${sources.join(" and ")}`);

  const forwardSink = opt("forwardSink") as InjectOptions["forwardSink"];
  const forwardEndpoint = opt("forwardEndpoint");
  const cpuLimit = opt("cpuLimit");
  return {
    port: Number(one("port")),
    address: one("address") || (selfSigned ? "127.0.0.1" : ""),
    tlsCert,
    tlsKey,
    tlsReloadIntervalMs: ms("tlsReloadInterval"),
    selfSigned,
    caFile: opt("caFile"),
    selfBootstrap,
    service: one("service"),
    namespace: one("namespace"),
    webhookConfig: one("webhookConfig"),
    secret: one("secret"),
    certIps: all("certIp").flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== ""),
    kubeconfig: opt("kubeconfig"),
    sidecarMode: one("sidecarMode") as SidecarModeSetting,
    shutdownGraceMs: ms("shutdownGrace"),
    reportMissedPods: bool("reportMissedPods"),
    missedPodsIntervalMs: ms("missedPodsInterval"),
    inject: {
      image: one("image"),
      imagePullPolicy: one("imagePullPolicy") as InjectOptions["imagePullPolicy"],
      mode: one("mode") as InjectOptions["mode"],
      format: one("format") as InjectOptions["format"],
      ...(forwardSink ? { forwardSink } : {}),
      ...(forwardEndpoint ? { forwardEndpoint } : {}),
      resources: {
        requests: { cpu: one("cpuRequest"), memory: one("memoryRequest") },
        limits: { ...(cpuLimit ? { cpu: cpuLimit } : {}), memory: one("memoryLimit") },
      },
      checkpointVolumeSizeLimit: one("checkpointVolumeSizeLimit"),
      maxSidecarsPerPod: Number(one("maxSidecarsPerPod")),
      excludedNamespaces: [...new Set(["kube-system", one("namespace")])],
    },
  };
}

/** The --help text, written from the table. */
export function settingsHelp(): string {
  return SETTINGS.map((s) => {
    const arg = s.kind === "bool" ? "" : typeof s.kind === "string" ? ` ${s.kind.toUpperCase()}` : ` ${s.kind.join("|")}`;
    const dflt = s.default === "" ? "" : ` (default ${s.default})`;
    return `  ${(s.flag + arg).padEnd(36)} ${s.help}${dflt}\n  ${"".padEnd(36)} env ${s.env}`;
  }).join("\n");
}

// `tailcar webhook`'s settings: its rows (webhook-rows.ts and injection-rows.ts) read by the
// settings engine, flags > environment > file > defaults, each value with its kind's one rule (the
// same one the pod annotations get), then the rules between settings. A bad value stops the
// webhook at start-up with a message naming the flag, variable or file key it came from.
import { readFileSync } from "node:fs";
import { parseConfigFile } from "../settings/config-file.ts";
import { renderHelp } from "../settings/help.ts";
import { givenText, readSettings, SettingsError } from "../settings/read.ts";
import { conflicts } from "./combinations.ts";
import { POD_ROWS } from "./injection-rows.ts";
import type { InjectSettings, SidecarMode } from "./options.ts";
import { WEBHOOK_ROWS } from "./webhook-rows.ts";

export { SettingsError } from "../settings/read.ts";

export type SidecarModeSetting = SidecarMode | "auto";

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
  /**
   * Injection defaults; sidecarMode is resolved from the setting above at start-up, and an unset
   * image from the webhook's version (injectOptions).
   */
  readonly inject: Omit<InjectSettings, "sidecarMode">;
}

const COMMAND = "tailcar webhook";

/** Namespaces never injected: kube-system and the webhook's own. */
export const excludedNamespacesFor = (webhookNamespace: string): readonly string[] => [...new Set(["kube-system", webhookNamespace])];
const flagOf = (key: string): string => WEBHOOK_ROWS.find((r) => r.key === key)!.flag!;

export function parseWebhookSettings(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>> = process.env,
  read: (path: string) => string = (p) => readFileSync(p, "utf8"),
): WebhookSettings {
  const configPath = givenText(WEBHOOK_ROWS, "config", { argv, env, command: COMMAND });
  let file: ReturnType<typeof parseConfigFile> | undefined;
  if (configPath) {
    let text: string;
    try {
      text = read(configPath);
    } catch (e) {
      throw new SettingsError(`--config ${configPath}: ${(e as Error).message}`);
    }
    file = parseConfigFile(configPath, text);
  }
  const v = readSettings(WEBHOOK_ROWS, { argv, env, command: COMMAND, ...(file && { file }) });

  if ((v.tlsCert === undefined) !== (v.tlsKey === undefined)) throw new SettingsError("--tls-cert and --tls-key go together: give both");
  const sources = [v.tlsCert !== undefined && "--tls-cert/--tls-key", v.selfSigned && "--self-signed", v.selfBootstrap && "--self-bootstrap"].filter(Boolean);
  if (sources.length === 0) throw new SettingsError("no TLS source: give --tls-cert FILE --tls-key FILE, --self-bootstrap (in a cluster) or --self-signed (local)");
  if (sources.length > 1) throw new SettingsError(`choose one TLS source, not ${sources.join(" and ")}`);
  // The defaults together, by the rule each pod's settings get: a pair that would make every pod
  // warn (about annotations it does not carry) is refused here instead.
  for (const conflict of conflicts(v)) throw new SettingsError(`${conflict.keys.map(flagOf).join(", ")}: ${conflict.problem(flagOf)}`);

  const { sidecarMode: _resolvedLater, ...injection } = Object.fromEntries(
    [...POD_ROWS.map((r) => r.key), "sidecarMode", "checkpointVolumeSizeLimit", "maxSidecarsPerPod"].map((k) => [k, v[k as keyof typeof v]]),
  ) as unknown as InjectSettings;
  return {
    port: v.port,
    address: v.address || (v.selfSigned ? "127.0.0.1" : ""),
    tlsCert: v.tlsCert,
    tlsKey: v.tlsKey,
    tlsReloadIntervalMs: v.tlsReloadInterval,
    selfSigned: v.selfSigned,
    caFile: v.caFile,
    selfBootstrap: v.selfBootstrap,
    service: v.service,
    namespace: v.namespace,
    webhookConfig: v.webhookConfig,
    secret: v.secret,
    certIps: v.certIp,
    kubeconfig: v.kubeconfig,
    sidecarMode: v.sidecarMode,
    shutdownGraceMs: v.shutdownGrace,
    reportMissedPods: v.reportMissedPods,
    missedPodsIntervalMs: v.missedPodsInterval,
    inject: { ...injection, excludedNamespaces: excludedNamespacesFor(v.namespace) },
  };
}

/** The --help text, written from the rows. */
export function settingsHelp(): string {
  return renderHelp(WEBHOOK_ROWS, { env: true });
}

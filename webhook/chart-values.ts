// The Helm chart's settings, written from the rows like the docs' tables: the `settings:` block of
// manifests/helm/tailcar/values.yaml (every injection setting, and each setting of the webhook
// itself that the chart does not set from its own objects, with its meaning and default) and the
// template naming each key's TAILCAR_WEBHOOK_ variable. `npm run docs:settings` writes both;
// test/docs-tables.test.ts fails when they and the rows disagree.
import { parse, parseAllDocuments } from "yaml";
import { defaultText, type AnyRow } from "../settings/row.ts";
import { INJECTION_ROWS } from "./injection-rows.ts";
import { SERVER_ROWS } from "./webhook-rows.ts";

export const CHART = "manifests/helm/tailcar/";
export const CHART_VALUES = `${CHART}values.yaml`;
export const CHART_ENV_TEMPLATE = `${CHART}templates/_settings.tpl`;
/** The Deployment whose settings the chart takes as its own defaults, so both installs run alike. */
export const BASE_DEPLOYMENT = "manifests/base/deployment.yaml";

/**
 * Settings the chart's templates give from the objects they create (the port its Service targets,
 * the names of its Service, Secret and webhook configuration, the TLS mode, the pod's namespace): a
 * value could only make them disagree.
 */
export const CHART_WIRED: ReadonlySet<string> = new Set([
  "port", "address", "tlsCert", "tlsKey", "selfSigned", "caFile", "selfBootstrap", "service", "namespace", "webhookConfig", "secret", "kubeconfig",
]);

const WIDTH = 100;

/** The rows the chart's `settings:` value takes, in the order values.yaml lists them. */
export function chartRows(): { readonly injection: readonly AnyRow[]; readonly webhook: readonly AnyRow[] } {
  const given = (r: AnyRow): boolean => r.fileKey !== undefined && r.env !== undefined && !CHART_WIRED.has(r.key);
  return { injection: INJECTION_ROWS.filter(given), webhook: SERVER_ROWS.filter(given) };
}

/** The settings the kustomize base's webhook container gives by value, as config key → text. */
export function baseChoices(deploymentYaml: string, rows: readonly AnyRow[]): Map<string, string> {
  const [deployment] = parseAllDocuments(deploymentYaml).map((d) => d.toJS() as { spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } } });
  const byEnv = new Map(rows.map((r) => [r.env, r]));
  const choices = new Map<string, string>();
  for (const e of deployment!.spec.template.spec.containers[0]!.env ?? []) {
    const row = byEnv.get(e.name);
    if (row !== undefined && e.value !== undefined) choices.set(row.fileKey!, e.value);
  }
  return choices;
}

/** `text` as `# ` comment lines of at most WIDTH columns, indented by `indent`. */
export function commentLines(text: string, indent: string): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(/\s+/).filter((w) => w !== "")) {
    if (line !== "" && indent.length + 2 + line.length + 1 + word.length > WIDTH) {
      lines.push(`${indent}# ${line}`);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  if (line !== "") lines.push(`${indent}# ${line}`);
  return lines;
}

/** `text` as a YAML scalar: plain where YAML reads it back as the same text (or as the row's own number or boolean), else quoted. */
function scalar(value: unknown, text: string): string {
  const back: unknown = parse(text);
  return back === text || ((typeof value === "number" || typeof value === "boolean") && back === value) ? text : JSON.stringify(text);
}

function rowLines(row: AnyRow, choice: string | undefined): string[] {
  const key = row.fileKey!;
  const sentence = (s: string): string => (/[.!?]$/.test(s) ? s : `${s}.`);
  const shown = row.defaultText ?? (row.default === undefined ? "unset" : row.kind.list ? "none" : defaultText(row));
  const perPod = row.annotation === undefined ? "" : ` A pod's annotation ${row.annotation} overrides it for that pod.`;
  const given = choice === undefined ? `Default: ${shown}.` : `The webhook's default: ${shown}; this chart's, as manifests/base: ${choice}.`;
  const lines = commentLines(`${sentence(row.help)} ${given}${perPod}`, "  ");
  if (choice !== undefined) return [...lines, `  ${key}: ${scalar(undefined, choice)}`];
  if (row.kind.list) return [...lines, `  # ${key}: []`];
  const example = row.default === undefined || row.defaultText !== undefined ? "" : ` ${scalar(row.default, defaultText(row))}`;
  return [...lines, `  # ${key}:${example}`];
}

/** The `settings:` block of values.yaml, between its markers. */
export function renderValuesBlock(choices: ReadonlyMap<string, string>): string {
  const { injection, webhook } = chartRows();
  const body = [
    ...commentLines(
      "The webhook's settings, by the keys of its config file (docs/webhook.md, \"Settings\"): each one given here becomes " +
        "its TAILCAR_WEBHOOK_ environment variable in the Deployment; one left out (commented) takes the webhook's default. " +
        "A key that is not a setting fails the install, naming the known keys.",
      "",
    ),
    choices.size === 0 ? "settings: {}" : "settings:",
    ...commentLines("Injection: the cluster's defaults for every injected pod (webhook/injection-rows.ts).", "  "),
    ...injection.flatMap((r) => rowLines(r, choices.get(r.fileKey!))),
    ...commentLines("The webhook itself (webhook/webhook-rows.ts); the chart sets the others (port, names, TLS) from the objects it creates.", "  "),
    ...webhook.flatMap((r) => rowLines(r, choices.get(r.fileKey!))),
  ];
  return body.join("\n");
}

/** templates/_settings.tpl: the variable of each key, for the Deployment's template. */
export function renderEnvTemplate(): string {
  const { injection, webhook } = chartRows();
  return [
    "{{- /*",
    "The TAILCAR_WEBHOOK_ variable of each key of .Values.settings. Written by npm run docs:settings from",
    "webhook/injection-rows.ts and webhook/webhook-rows.ts: edit the rows, not this file.",
    "*/ -}}",
    '{{- define "tailcar.settingEnvNames" -}}',
    ...[...injection, ...webhook].map((r) => `${r.fileKey}: ${r.env}`),
    "{{- end -}}",
    "",
  ].join("\n");
}

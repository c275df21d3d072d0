// `tailcar check`'s settings, one row each (flags only: a diagnostic reads no environment or file).
import { bool, dns1123Label, duration, list, oneOf, text } from "../../settings/kinds.ts";
import { optional, setting, type Row } from "../../settings/row.ts";
import { SERVER_ROWS } from "../webhook-rows.ts";

export const OUTPUT_FORMATS = ["text", "json"] as const;

/** A row of `tailcar webhook` taken with its flag, kind and default, and a help text of the check's. */
function fromWebhook<K extends (typeof SERVER_ROWS)[number]["key"]>(key: K, help: string) {
  const row = SERVER_ROWS.find((r) => r.key === key)! as Extract<(typeof SERVER_ROWS)[number], { key: K }>;
  return { ...row, help, env: undefined, fileKey: undefined };
}

export const CHECK_ROWS = [
  optional("kubeconfig", text, "kubeconfig file", { flag: "--kubeconfig", defaultText: "`KUBECONFIG` or `~/.kube/config`" }),
  optional("context", text, "kubeconfig context to use", { flag: "--context", defaultText: "the current context" }),
  optional("namespace", dns1123Label, "check this namespace too: its label, pods admitted without sidecars, sidecars of another version than the webhook's; with `pod NAME`, the pod's namespace (then `default` when not given)", { flag: "--namespace", short: "n" }),
  setting("filename", list(text), [] as readonly string[], "check the pods of a manifest instead, offline: each is injected as the webhook would, then its files are checked; repeatable, - for stdin", { flag: "--filename", short: "f" }),
  setting("output", oneOf(OUTPUT_FORMATS), "text", "text: a checklist; json: every check as an object", { flag: "--output", short: "o" }),
  fromWebhook("webhookConfig", "the MutatingWebhookConfiguration to check"),
  setting("requestTimeout", duration, 10_000, "the most one API request, the dry-run admission or a TLS connection may take", { flag: "--request-timeout" }),
  setting("help", bool, false, "show this help", { flag: "--help", short: "h" }),
] as const satisfies readonly Row[];

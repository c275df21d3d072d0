// The settings of `tailcar webhook` itself (its server, TLS and API access), one row each; with the
// injection rows they make its flags, TAILCAR_WEBHOOK_ variables and config keys.
import { bool, dns1123Label, duration, list, port, text } from "../settings/kinds.ts";
import { named, optional, setting, type Row } from "../settings/row.ts";
import { INJECTION_ROWS } from "./injection-rows.ts";

const n = (key: string, defaultText?: string) => named(key, "TAILCAR_WEBHOOK_", defaultText === undefined ? {} : { defaultText });

export const SERVER_ROWS = [
  setting("port", port, 8443, "HTTPS port; 0 takes a free port (logged at start)", n("port")),
  setting("address", text, "", "listen address", n("address", "all interfaces (`127.0.0.1` with `--self-signed`)")),
  optional("tlsCert", text, "serving certificate file (PEM), reloaded when it changes", n("tlsCert")),
  optional("tlsKey", text, "private key file (PEM) of --tls-cert", n("tlsKey")),
  setting("tlsReloadInterval", duration, 10_000, "how often the TLS files are re-read (file watches are only a hint)", n("tlsReloadInterval")),
  setting("selfSigned", bool, false, "local use: a fresh CA and certificate for 127.0.0.1/localhost; the CA is written to --ca-file", n("selfSigned")),
  optional("caFile", text, "with --self-signed: where to write the CA", n("caFile", "a new temporary directory")),
  setting("selfBootstrap", bool, false, "in-cluster: keep a CA and certificate in --secret and patch the caBundle of --webhook-config", n("selfBootstrap")),
  setting("service", dns1123Label, "tailcar-webhook", "with --self-bootstrap: the Service name in the certificate", n("service")),
  setting("namespace", dns1123Label, "tailcar-system", "the webhook's own namespace, never injected (nor is kube-system); with --self-bootstrap also that of the Service and the Secret. The shipped Deployment sets it from the pod's namespace", n("namespace")),
  setting("webhookConfig", text, "tailcar", "with --self-bootstrap: the MutatingWebhookConfiguration whose caBundle is patched", n("webhookConfig")),
  setting("secret", text, "tailcar-webhook-tls", "with --self-bootstrap: the Secret holding the certificate", n("secret")),
  setting("certIp", list(), [] as readonly string[], "with --self-bootstrap: extra IP SANs, comma-separated or repeated (a list in the file)", n("certIp")),
  optional("kubeconfig", text, "API server access for --self-bootstrap, --sidecar-mode auto and --report-missed-pods", n("kubeconfig", "in a pod its service account, else `KUBECONFIG` or `~/.kube/config`")),
  setting("shutdownGrace", duration, 10_000, "on SIGTERM, how long in-flight requests may take before connections are closed", n("shutdownGrace")),
  setting("reportMissedPods", bool, true, "with API access: report pods admitted without sidecars while the webhook was down (log, Event, metric); --no-report-missed-pods turns it off", n("reportMissedPods")),
  setting("missedPodsInterval", duration, 300_000, "how often --report-missed-pods scans again", n("missedPodsInterval")),
  optional("config", text, "YAML or JSON file of settings, keyed by the config keys of this table", { flag: "--config", env: "TAILCAR_WEBHOOK_CONFIG" }),
] as const satisfies readonly Row[];

export const WEBHOOK_ROWS = [...INJECTION_ROWS, ...SERVER_ROWS] as const;

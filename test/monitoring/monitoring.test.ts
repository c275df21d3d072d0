// manifests/monitoring against the code: every metric an alert or a dashboard panel reads is exported
// by a running webhook or sidecar (both scraped here), every alert has its runbook section in
// docs/monitoring.md, the ServiceMonitor reaches the webhook the way the installs serve it, and the
// component builds with kubectl while the installs need none of its CRDs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";
import { generateCertBundle, serviceDnsNames } from "../../webhook/certs.ts";
import { findOrBuildKubectl } from "../../localcluster/harness/build.ts";
import { startSidecar, tempDir, until } from "../sidecar/harness.ts";
import { CLI, startWebhook } from "../../localcluster/webhook-process.ts";
import { apiStandIn } from "../webhook/api-stand-in.ts";
import { call } from "../webhook/https-helpers.ts";
import { exportedNames, grafanaQueryMetricNames, promqlMetricNames } from "./metric-names.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");

// A loose view of parsed YAML and JSON, for this test only.
type Obj = Record<string, any>;

const RULE_FILE = "manifests/monitoring/prometheusrule.yaml";
const DASHBOARD_FILE = "manifests/monitoring/dashboards/tailcar.json";
const rule = parse(read(RULE_FILE)) as Obj;
const alerts: Obj[] = rule["spec"].groups.flatMap((g: Obj) => g["rules"]);
const dashboard = JSON.parse(read(DASHBOARD_FILE)) as Obj;
const serviceMonitor = parse(read("manifests/monitoring/servicemonitor.yaml")) as Obj;

/** Series Prometheus writes itself for every target: no exporter has them. */
const PROMETHEUS_SERIES = new Set(["up"]);

interface Use {
  readonly where: string;
  readonly name: string;
}

function ruleUses(): Use[] {
  return alerts.flatMap((r) => promqlMetricNames(String(r["expr"])).map((name) => ({ where: `${RULE_FILE}: ${r["alert"] ?? r["record"]}`, name })));
}

function dashboardUses(): Use[] {
  const panels = (list: Obj[]): Obj[] => list.flatMap((p) => [p, ...panels(p["panels"] ?? [])]);
  const fromPanels = panels(dashboard["panels"]).flatMap((p) =>
    (p["targets"] ?? []).flatMap((t: Obj) => promqlMetricNames(String(t["expr"])).map((name) => ({ where: `${DASHBOARD_FILE}: panel "${p["title"]}"`, name }))),
  );
  const fromVariables = (dashboard["templating"]?.list ?? [])
    .filter((v: Obj) => v["type"] === "query")
    .flatMap((v: Obj) => {
      const query = typeof v["query"] === "string" ? v["query"] : String(v["query"]?.query ?? "");
      return grafanaQueryMetricNames(query).map((name) => ({ where: `${DASHBOARD_FILE}: variable ${v["name"]}`, name }));
    });
  return [...fromPanels, ...fromVariables];
}

/** The names used that the exporter responsible for them does not export: the sidecar for tailcar_sidecar_*, else the webhook. */
function unexported(uses: readonly Use[], webhook: ReadonlySet<string>, sidecar: ReadonlySet<string>): string[] {
  return uses
    .filter((u) => !PROMETHEUS_SERIES.has(u.name) && !(u.name.startsWith("tailcar_sidecar_") ? sidecar : webhook).has(u.name))
    .map((u) => `${u.where} uses ${u.name}, which the ${u.name.startsWith("tailcar_sidecar_") ? "sidecar" : "webhook"} does not export`);
}

/** GitHub's anchor for a Markdown heading. */
const anchor = (heading: string): string => heading.trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");

test("every alert has a severity, a summary, a description, and a runbook that is a section of docs/monitoring.md", () => {
  const docs = read("docs/monitoring.md");
  const anchors = new Set([...docs.matchAll(/^#+ (.+)$/gm)].map((m) => anchor(m[1]!)));
  assert.ok(alerts.length >= 8, `${alerts.length} alerts`);
  for (const a of alerts) {
    const name = String(a["alert"]);
    assert.match(name, /^Tailcar[A-Z]\w+$/);
    assert.ok(["warning", "critical"].includes(a["labels"]?.severity), `${name}: severity warning or critical`);
    assert.ok(String(a["annotations"]?.summary ?? "").length > 10, `${name}: a summary`);
    assert.ok(String(a["annotations"]?.description ?? "").length > 40, `${name}: a description`);
    const runbook = /^docs\/monitoring\.md#(.+)$/.exec(String(a["annotations"]?.runbook ?? ""));
    assert.ok(runbook, `${name}: runbook annotation docs/monitoring.md#SECTION`);
    assert.ok(anchors.has(runbook[1]!), `${name}: docs/monitoring.md has no section #${runbook[1]}`);
    assert.ok(docs.includes(name), `${name} is named in docs/monitoring.md`);
  }
});

test("the alerts and the dashboard read only metrics that a running webhook and a running sidecar export", { skip: !existsSync(CLI) && "run npm run build first", timeout: 90_000 }, async (t) => {
  const uses = [...ruleUses(), ...dashboardUses()];
  const names = new Set(uses.map((u) => u.name));
  assert.ok(names.size >= 20, `only ${names.size} metric names found: ${[...names].join(", ")}`);
  for (const r of alerts) assert.ok(promqlMetricNames(String(r["expr"])).length > 0, `${r["alert"]}: no metric found in its expression`);

  // The webhook as an install runs it: a certificate for the Service's names (what self-bootstrap
  // makes), checked under the ServiceMonitor's serverName against its CA; API access, so the
  // missed-pod reporter runs (against an empty API server stand-in).
  const dir = tempDir(t, "tailcar-monitoring-");
  const tls = serviceMonitor["spec"].endpoints[0].tlsConfig;
  const bundle = await generateCertBundle({ dnsNames: serviceDnsNames("tailcar-webhook", "tailcar-system") });
  writeFileSync(join(dir, "tls.crt"), bundle.cert);
  writeFileSync(join(dir, "tls.key"), bundle.key);
  const api = await apiStandIn("empty");
  t.after(() => api.close());
  writeFileSync(join(dir, "kubeconfig"), api.kubeconfig);
  const webhook = await startWebhook(["--tls-cert", join(dir, "tls.crt"), "--tls-key", join(dir, "tls.key"), "--sidecar-mode", "native", "--kubeconfig", join(dir, "kubeconfig")]);
  t.after(() => webhook.cleanup());
  const scan = await webhook.waitForLog("from the first missed-pod scan", (l) => /^missed-pod scan (done|failed)/.test(l.msg ?? ""));
  assert.equal(scan.msg, "missed-pod scan done", JSON.stringify(scan));

  // A sidecar forwarding to a Loki stand-in that takes everything, so the sink's counters exist too.
  const sink = createServer((req, res) => req.resume().on("end", () => res.writeHead(204).end()));
  await new Promise<void>((resolve) => sink.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => sink.close(() => resolve())));
  const file = join(dir, "app.log");
  appendFileSync(file, "one\ntwo\n");
  const sidecar = startSidecar(t, ["--file", file, "--sink", "loki", "--endpoint", `http://127.0.0.1:${(sink.address() as AddressInfo).port}`, "--metrics-port", "0", "--poll-interval", "100ms"]);
  let sidecarPage = "";
  await until(async () => {
    const port = sidecar.metricsPort();
    if (port === undefined) return false;
    sidecarPage = await (await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    return /^tailcar_sidecar_lines_written_total\{[^}]*\} 2$/m.test(sidecarPage);
  }, 20_000, () => `the sidecar's two lines acknowledged:\n${sidecarPage}\n${sidecar.stderr()}`);

  const webhookPage = await call(webhook.port, bundle.caCert, "GET", serviceMonitor["spec"].endpoints[0].path, undefined, { servername: tls.serverName });
  assert.equal(webhookPage.status, 200);
  assert.deepEqual(unexported(uses, exportedNames(webhookPage.text), exportedNames(sidecarPage)), []);
});

test("the ServiceMonitor scrapes the Service's HTTPS port, checking the certificate both installs serve by the Secret's CA and the Service's name", () => {
  const [service] = parseAllDocuments(read("manifests/base/service.yaml")).map((d) => d.toJS() as Obj);
  const [deployment] = parseAllDocuments(read("manifests/base/deployment.yaml")).map((d) => d.toJS() as Obj);
  const [certificate] = parseAllDocuments(read("manifests/overlays/cert-manager/certificate.yaml")).map((d) => d.toJS() as Obj);
  const spec = serviceMonitor["spec"];
  for (const [k, v] of Object.entries(spec.selector.matchLabels as Record<string, string>)) assert.equal(service!["metadata"].labels[k], v, `the Service carries ${k}=${v}`);
  assert.deepEqual(spec.namespaceSelector.matchNames, [service!["metadata"].namespace]);
  assert.equal(spec.endpoints.length, 1);
  const endpoint = spec.endpoints[0];
  const port = (service!["spec"].ports as Obj[]).find((p) => p["name"] === endpoint.port);
  assert.ok(port, `the Service has a port named ${endpoint.port}`);
  const container = deployment!["spec"].template.spec.containers[0];
  const containerPort = (container.ports as Obj[]).find((p) => p["name"] === port["targetPort"]);
  assert.ok(containerPort, `the container has the Service's target port ${port["targetPort"]}`);
  // One port, TLS only (webhook/server.ts is node:https): the probes say so too.
  assert.equal(endpoint.scheme, "https");
  assert.equal(container.readinessProbe.httpGet.scheme, "HTTPS");
  assert.equal(endpoint.path, "/metrics");
  const env = Object.fromEntries((container.env as Obj[]).map((e) => [e["name"], e["value"]]));
  assert.equal(endpoint.tlsConfig.ca.secret.name, env["TAILCAR_WEBHOOK_SECRET"], "self-bootstrap keeps its CA in this Secret");
  assert.equal(endpoint.tlsConfig.ca.secret.name, certificate!["spec"].secretName, "cert-manager issues into this Secret");
  assert.equal(endpoint.tlsConfig.ca.secret.key, "ca.crt");
  assert.ok(serviceDnsNames(env["TAILCAR_WEBHOOK_SERVICE"], service!["metadata"].namespace).includes(endpoint.tlsConfig.serverName), "self-bootstrap's certificate names it");
  assert.ok((certificate!["spec"].dnsNames as string[]).includes(endpoint.tlsConfig.serverName), "cert-manager's certificate names it");
  assert.equal(endpoint.tlsConfig.insecureSkipVerify, undefined);
});

test("kubectl kustomize manifests/monitoring gives a ServiceMonitor, the sidecars' PodMonitor, a PrometheusRule and the dashboard as a labelled ConfigMap; no install needs their CRDs", { timeout: 120_000 }, async () => {
  const kubectl = await findOrBuildKubectl();
  const build = (dir: string): Obj[] =>
    parseAllDocuments(execFileSync(kubectl, ["kustomize", join(ROOT, dir)], { encoding: "utf8", timeout: 60_000 })).map((d) => d.toJS() as Obj);
  const objects = build("manifests/monitoring");
  assert.deepEqual(objects.map((o) => `${o["apiVersion"]} ${o["kind"]}`).sort(), ["monitoring.coreos.com/v1 PodMonitor", "monitoring.coreos.com/v1 PrometheusRule", "monitoring.coreos.com/v1 ServiceMonitor", "v1 ConfigMap"]);
  for (const o of objects) assert.equal(o["metadata"].namespace, "tailcar-system");
  const configMap = objects.find((o) => o["kind"] === "ConfigMap")!;
  assert.equal(configMap["metadata"].labels.grafana_dashboard, "1");
  assert.deepEqual(JSON.parse(configMap["data"]["tailcar.json"]), dashboard, "the ConfigMap holds the dashboard file");
  for (const install of ["manifests", "manifests/overlays/cert-manager", "manifests/overlays/apiserver-only"]) {
    const kinds = build(install).map((o) => String(o["apiVersion"]));
    assert.ok(!kinds.some((v) => v.startsWith("monitoring.coreos.com/")), `${install} needs no Prometheus Operator CRD`);
  }
});

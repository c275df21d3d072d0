// The shipped manifests: every YAML file parses, every kustomization lists only existing files and
// builds (when kubectl is installed), the MutatingWebhookConfiguration's selectors give the
// documented opt-in/opt-out table, and the objects of each install refer to each other by the names
// they carry. test/e2e/manifests-server.test.ts has a real API server validate them.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { V1Container, V1Pod } from "@kubernetes/client-node";
import { parseWebhookSettings } from "../webhook/settings.ts";
import { WEBHOOK_ROWS } from "../webhook/webhook-rows.ts";
import { resolveEnv } from "../localcluster/harness/local-pod-spec.ts";

const ROOT = fileURLToPath(new URL("../manifests/", import.meta.url));

/** The YAML files under `dir`, except the Helm chart's (templates, not YAML: test/helm-chart.test.ts renders them). */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (p === join(ROOT, "helm")) return [];
    return statSync(p).isDirectory() ? yamlFiles(p) : f.endsWith(".yaml") ? [p] : [];
  });
}

// A loose view of parsed YAML, for this test only.
type Obj = Record<string, any>;

function docs(file: string): Obj[] {
  return parseAllDocuments(readFileSync(file, "utf8")).map((d) => {
    assert.equal(d.errors.length, 0, `${file}: ${d.errors.map((e) => e.message).join("; ")}`);
    return d.toJS() as Obj;
  });
}

const files = yamlFiles(ROOT);

test("every manifest YAML file parses", () => {
  assert.ok(files.length >= 10);
  for (const f of files) docs(f);
});

test("every kustomization.yaml lists only files and folders that exist, and every base file is listed", () => {
  for (const f of files.filter((x) => x.endsWith("kustomization.yaml"))) {
    const [k] = docs(f);
    const entries: string[] = [...(k!["resources"] ?? []), ...(k!["patches"] ?? []).map((p: Obj) => p["path"])];
    for (const e of entries) assert.ok(existsSync(join(dirname(f), e)), `${f} lists ${e}, which does not exist`);
  }
  const [base] = docs(join(ROOT, "base/kustomization.yaml"));
  const listed = new Set(base!["resources"] as string[]);
  for (const f of readdirSync(join(ROOT, "base")).filter((x) => x !== "kustomization.yaml")) assert.ok(listed.has(f), `base/${f} is not in base/kustomization.yaml`);
});

const kubectl = spawnSync("kubectl", ["version", "--client"], { stdio: "ignore" }).status === 0;
for (const overlay of ["", "base", "overlays/self-bootstrap", "overlays/cert-manager", "overlays/apiserver-only"]) {
  test(`kubectl kustomize manifests/${overlay} builds`, { skip: !kubectl && "kubectl is not installed" }, () => {
    const out = execFileSync("kubectl", ["kustomize", join(ROOT, overlay)], { encoding: "utf8", timeout: 30_000 });
    assert.match(out, /kind: MutatingWebhookConfiguration/);
  });
}

const examples = readdirSync(join(ROOT, "examples"));
test("every example has a README and a kustomization that builds, with an app whose pods ask for files", { skip: !kubectl && "kubectl is not installed" }, () => {
  assert.deepEqual(examples.sort(), ["fluent-bit-opensearch", "forward-loki", "otel-collector"]);
  for (const e of examples) {
    assert.ok(existsSync(join(ROOT, "examples", e, "README.md")), `examples/${e} has a README.md`);
    const out = execFileSync("kubectl", ["kustomize", join(ROOT, "examples", e)], { encoding: "utf8", timeout: 30_000 });
    const apps = parseAllDocuments(out).map((d) => d.toJS() as Obj).filter((o) => o["kind"] === "Deployment");
    assert.ok(apps.some((d) => d["spec"].template.metadata.annotations?.["tailcar.io/files"]), `examples/${e} has a Deployment annotated with tailcar.io/files`);
  }
});

type Requirement = { key: string; operator: string; values?: string[] };
function matches(selector: { matchExpressions?: Requirement[] } | undefined, labels: Record<string, string>): boolean {
  return (selector?.matchExpressions ?? []).every((r) => {
    const v = labels[r.key];
    switch (r.operator) {
      case "In": return v !== undefined && r.values!.includes(v);
      case "NotIn": return v === undefined || !r.values!.includes(v);
      case "Exists": return v !== undefined;
      case "DoesNotExist": return v === undefined;
      default: throw new Error(`operator ${r.operator}`);
    }
  });
}

const [mwc] = docs(join(ROOT, "base/mutatingwebhookconfiguration.yaml"));

test("the MutatingWebhookConfiguration has two webhooks for pod CREATE, dry-run safe, failing open", () => {
  assert.equal(mwc!["kind"], "MutatingWebhookConfiguration");
  assert.equal(mwc!["metadata"].name, "tailcar");
  assert.equal(mwc!["webhooks"].length, 2);
  for (const w of mwc!["webhooks"] as Obj[]) {
    assert.deepEqual(w["rules"], [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["pods"], scope: "Namespaced" }]);
    assert.equal(w["sideEffects"], "None");
    assert.deepEqual(w["admissionReviewVersions"], ["v1"]);
    assert.equal(w["failurePolicy"], "Ignore");
    assert.equal(w["reinvocationPolicy"], "IfNeeded");
    assert.equal(w["timeoutSeconds"], 5);
    assert.deepEqual(w["clientConfig"], { service: { name: "tailcar-webhook", namespace: "tailcar-system", path: "/mutate", port: 443 } });
  }
});

const table: [string, Record<string, string>, Record<string, string>, boolean][] = [
  ["enabled namespace, unlabelled pod", { "tailcar.io/injection": "enabled" }, {}, true],
  ["enabled namespace, pod inject=true", { "tailcar.io/injection": "enabled" }, { "tailcar.io/inject": "true" }, true],
  ["enabled namespace, pod inject=false", { "tailcar.io/injection": "enabled" }, { "tailcar.io/inject": "false" }, false],
  ["unlabelled namespace, unlabelled pod", {}, {}, false],
  ["unlabelled namespace, pod inject=true", {}, { "tailcar.io/inject": "true" }, true],
  ["unlabelled namespace, pod inject=false", {}, { "tailcar.io/inject": "false" }, false],
  ["disabled namespace, pod inject=true", { "tailcar.io/injection": "disabled" }, { "tailcar.io/inject": "true" }, false],
  ["kube-system labelled enabled", { "tailcar.io/injection": "enabled", "kubernetes.io/metadata.name": "kube-system" }, {}, false],
  ["tailcar-system, pod inject=true", { "kubernetes.io/metadata.name": "tailcar-system" }, { "tailcar.io/inject": "true" }, false],
];
for (const [name, nsLabels, podLabels, expected] of table) {
  test(`selectors: ${name} → ${expected ? "injected" : "not injected"}, by at most one webhook`, () => {
    const hits = (mwc!["webhooks"] as Obj[]).filter((w) => matches(w["namespaceSelector"], nsLabels) && matches(w["objectSelector"], podLabels));
    assert.equal(hits.length, expected ? 1 : 0);
  });
}

test("the Deployment runs 2 restricted replicas with probes on /readyz and /healthz, a startup probe that gives a slow start 60 s or more, and only known settings", () => {
  const [d] = docs(join(ROOT, "base/deployment.yaml"));
  assert.equal(d!["spec"].replicas, 2);
  const pod = d!["spec"].template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
  const [c] = pod.containers as Obj[];
  assert.deepEqual(c!["securityContext"], { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
  assert.equal(c!["readinessProbe"].httpGet.path, "/readyz");
  assert.equal(c!["livenessProbe"].httpGet.path, "/healthz");
  // A slow start (up to 29 s to listening, measured on the real node) must not meet liveness first.
  const startup = c!["startupProbe"];
  assert.equal(startup.httpGet.path, "/healthz");
  assert.ok(startup.periodSeconds * startup.failureThreshold >= 60, "the startup probe allows at least 60 s");
  assert.equal(c!["livenessProbe"].initialDelaySeconds, undefined, "liveness waits for the startup probe, not a guess");
  assert.ok(c!["resources"].requests.cpu && c!["resources"].limits.memory);
  const known = new Set(WEBHOOK_ROWS.map((s) => s.env));
  const envs = [c!, ...["self-bootstrap", "cert-manager"].map((o) => docs(join(ROOT, `overlays/${o}/deployment-patch.yaml`))[0]!["spec"].template.spec.containers[0])];
  for (const e of envs.flatMap((x: Obj) => x["env"] as Obj[])) assert.ok(known.has(e["name"]), `unknown setting ${e["name"]}`);
});

// What `kubectl apply -k` would install, object by object: the names the objects use to find each
// other must agree, or the install "succeeds" and the webhook is never called (or cannot start).
const INSTALLS = ["", "overlays/cert-manager"] as const;

function built(dir: string): Obj[] {
  const out = execFileSync("kubectl", ["kustomize", join(ROOT, dir)], { encoding: "utf8", timeout: 30_000 });
  return parseAllDocuments(out).map((d) => d.toJS() as Obj);
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** The rules of every Role and ClusterRole bound to `subject` in the build. */
function grantedRules(objects: Obj[], subject: Obj): Rule[] {
  return objects
    .filter((o) => (o["kind"] === "RoleBinding" || o["kind"] === "ClusterRoleBinding") && (o["subjects"] as Obj[]).some((s) => s["kind"] === subject["kind"] && s["name"] === subject["name"] && s["namespace"] === subject["namespace"]))
    .flatMap((b) => objects.filter((o) => o["kind"] === b["roleRef"].kind && o["metadata"].name === b["roleRef"].name))
    .flatMap((role) => role["rules"] as Rule[]);
}

/** Whether any rule grants `verb` on `resource` (on some object at least), as RBAC reads rules. */
function allows(rules: readonly Rule[], verb: string, group: string, resource: string): boolean {
  const has = (list: string[], v: string): boolean => list.includes(v) || list.includes("*");
  return rules.some((r) => has(r.verbs, verb) && has(r.apiGroups, group) && has(r.resources, resource));
}

function one(objects: Obj[], kind: string, name?: string): Obj {
  const found = objects.filter((o) => o["kind"] === kind && (name === undefined || o["metadata"].name === name));
  assert.equal(found.length, 1, `one ${kind}${name ? ` named ${name}` : ""} in the build, found ${found.length}`);
  return found[0]!;
}

function selects(selector: Obj, labels: Obj): boolean {
  return Object.entries(selector as Record<string, string>).every(([k, v]) => labels[k] === v);
}

/** The webhook container's environment as the kubelet would give it to a pod of `deployment`. */
function containerEnv(deployment: Obj, container: Obj): Record<string, string> {
  const pod = { metadata: { ...deployment["spec"].template.metadata, namespace: deployment["metadata"].namespace }, spec: deployment["spec"].template.spec } as V1Pod;
  return resolveEnv(pod, container as V1Container, { cpus: 1, memoryBytes: 0 });
}

/**
 * The NetworkPolicy covers the webhook's pods and lets traffic in on the port the webhook listens on
 * and no other (the API server's calls, the kubelet's probes and /metrics all use it); returns its
 * one ingress rule.
 */
function checkNetworkPolicy(objects: Obj[], template: Obj, container: Obj, port: number): Obj {
  const policy = one(objects, "NetworkPolicy", "tailcar-webhook");
  assert.equal(policy["metadata"].namespace, template.metadata.namespace ?? policy["metadata"].namespace);
  assert.ok(selects(policy["spec"].podSelector.matchLabels, template.metadata.labels), "the NetworkPolicy selects the webhook's pods");
  assert.deepEqual(policy["spec"].policyTypes, ["Ingress"], "ingress only: the webhook's own calls to the API server stay open");
  const rules = policy["spec"].ingress as Obj[];
  assert.equal(rules.length, 1);
  const ports = rules[0]!["ports"] as Obj[];
  assert.equal(ports.length, 1);
  const target = (container["ports"] as Obj[]).find((p) => p["name"] === ports[0]!["port"] || p["containerPort"] === ports[0]!["port"]);
  assert.equal(target?.containerPort, port, "the one port let in is the one the webhook listens on");
  assert.equal(ports[0]!["protocol"], "TCP");
  return rules[0]!;
}

test("manifests/overlays/apiserver-only: the NetworkPolicy admits only the IP ranges it is given, on the webhook's port", { skip: !kubectl && "kubectl is not installed" }, () => {
  const objects = built("overlays/apiserver-only");
  const deployment = one(objects, "Deployment", "tailcar-webhook");
  const template = deployment["spec"].template;
  const [container] = template.spec.containers as Obj[];
  const settings = parseWebhookSettings(container!["args"].slice(1), containerEnv(deployment, container!), () => assert.fail("no config file is expected"));
  const rule = checkNetworkPolicy(objects, template, container!, settings.port);
  const from = rule["from"] as Obj[];
  assert.ok(from.length > 0, "sources are named");
  for (const source of from) assert.deepEqual(Object.keys(source), ["ipBlock"], "only IP ranges: no pod or namespace selector lets a pod in");
  const base = built("");
  assert.equal(one(base, "NetworkPolicy", "tailcar-webhook")["spec"].ingress[0].from, undefined, "the default install names no sources (docs/webhook.md: API server addresses vary)");
});

for (const dir of INSTALLS) {
  test(`manifests/${dir}: the webhook configuration, Service, Deployment, RBAC and PDB name each other consistently, and the container's settings parse`, { skip: !kubectl && "kubectl is not installed" }, () => {
    const objects = built(dir);
    const mwc = one(objects, "MutatingWebhookConfiguration");
    const deployment = one(objects, "Deployment", "tailcar-webhook");
    const template = deployment["spec"].template;
    const [container] = template.spec.containers as Obj[];
    const settings = parseWebhookSettings(container!["args"].slice(1), containerEnv(deployment, container!), () => assert.fail("no config file is expected"));

    // The API server calls the Service the webhooks name, which must reach the container's port.
    for (const w of mwc["webhooks"] as Obj[]) {
      const ref = w["clientConfig"].service;
      const service = one(objects, "Service", ref.name);
      assert.equal(service["metadata"].namespace, ref.namespace);
      const port = (service["spec"].ports as Obj[]).find((p) => p["port"] === ref.port);
      assert.ok(port, `Service ${ref.name} has port ${ref.port}`);
      assert.ok(selects(service["spec"].selector, template.metadata.labels), "the Service selects the webhook's pods");
      const target = (container!["ports"] as Obj[]).find((p) => p["name"] === port!["targetPort"] || p["containerPort"] === port!["targetPort"]);
      assert.equal(target?.containerPort, settings.port, "the Service's targetPort is the port the webhook listens on");
      // The certificate is made for (or bootstrapped with) the name the API server dials.
      assert.equal(`${settings.service}.${settings.namespace}`, `${ref.name}.${ref.namespace}`);
    }
    assert.equal(settings.webhookConfig, mwc["metadata"].name, "the webhook knows its configuration's name (missed pods, caBundle)");
    assert.ok(selects(one(objects, "PodDisruptionBudget")["spec"].selector.matchLabels, template.metadata.labels), "the PDB covers the webhook's pods");
    checkNetworkPolicy(objects, template, container!, settings.port);

    // Its ServiceAccount exists and is bound to the roles, whose resourceNames are the ones it uses.
    const sa = one(objects, "ServiceAccount", template.spec.serviceAccountName);
    const subject = { kind: "ServiceAccount", name: sa["metadata"].name, namespace: sa["metadata"].namespace };
    for (const binding of objects.filter((o) => o["kind"] === "RoleBinding" || o["kind"] === "ClusterRoleBinding")) {
      assert.deepEqual(binding["subjects"], [subject], `${binding["kind"]} ${binding["metadata"].name} binds the pods' ServiceAccount`);
      one(objects, binding["roleRef"].kind, binding["roleRef"].name);
    }
    const rules = grantedRules(objects, subject);
    // Every install: the missed-pod report lists pods and namespaces and records Events.
    assert.ok(allows(rules, "list", "", "pods") && allows(rules, "list", "", "namespaces") && allows(rules, "create", "", "events"));
    const names = (group: string, resource: string): string[] => rules.filter((r) => r.apiGroups.includes(group) && r.resources.includes(resource)).flatMap((r) => r.resourceNames ?? []);
    if (settings.selfBootstrap) {
      assert.deepEqual(names("admissionregistration.k8s.io", "mutatingwebhookconfigurations"), [settings.webhookConfig], "it may patch the configuration it is set to patch, and no other");
      assert.deepEqual(names("", "secrets"), [settings.secret], "it may read and update the Secret it is set to use, and no other");
      assert.ok(allows(rules, "patch", "admissionregistration.k8s.io", "mutatingwebhookconfigurations") && allows(rules, "create", "", "secrets"));
    } else {
      // cert-manager writes the Secret and cainjector the caBundle: the webhook needs neither right.
      for (const verb of ["create", "update", "patch", "delete", "get"]) assert.ok(!allows(rules, verb, "", "secrets"), `the cert-manager install may ${verb} Secrets`);
      for (const verb of ["patch", "update"]) {
        assert.ok(!allows(rules, verb, "admissionregistration.k8s.io", "mutatingwebhookconfigurations"), `the cert-manager install may ${verb} webhook configurations`);
      }
    }

    if (dir === "") {
      assert.equal(settings.selfBootstrap, true, "the default install bootstraps its own TLS");
      return;
    }
    // cert-manager: the Certificate's Secret is mounted where the webhook reads its files, for the
    // Service's name, and cainjector is pointed at that Certificate.
    const certificate = one(objects, "Certificate");
    assert.equal(settings.selfBootstrap, false);
    const mount = (container!["volumeMounts"] as Obj[]).find((m) => settings.tlsCert?.startsWith(`${m["mountPath"]}/`));
    assert.ok(mount, `${settings.tlsCert} lies under a volume mount`);
    assert.equal(dirname(settings.tlsKey ?? ""), dirname(settings.tlsCert ?? ""));
    const volume = (template.spec.volumes as Obj[]).find((v) => v["name"] === mount!["name"]);
    assert.equal(volume?.secret?.secretName, certificate["spec"].secretName, "the mounted Secret is the one cert-manager writes");
    assert.ok((certificate["spec"].dnsNames as string[]).includes(`${settings.service}.${settings.namespace}.svc`));
    assert.equal(mwc["metadata"].annotations["cert-manager.io/inject-ca-from"], `${certificate["metadata"].namespace}/${certificate["metadata"].name}`);
    one(objects, certificate["spec"].issuerRef.kind, certificate["spec"].issuerRef.name);
  });
}

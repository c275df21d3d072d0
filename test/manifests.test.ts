// The shipped manifests: every YAML file parses, every kustomization lists only existing files and
// builds (when kubectl is installed), and the MutatingWebhookConfiguration's selectors give the
// documented opt-in/opt-out table.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import { SETTINGS } from "../webhook/settings.ts";

const ROOT = fileURLToPath(new URL("../manifests/", import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
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
for (const overlay of ["", "base", "overlays/self-bootstrap", "overlays/cert-manager"]) {
  test(`kubectl kustomize manifests/${overlay} builds`, { skip: !kubectl && "kubectl is not installed" }, () => {
    const out = execFileSync("kubectl", ["kustomize", join(ROOT, overlay)], { encoding: "utf8", timeout: 30_000 });
    assert.match(out, /kind: MutatingWebhookConfiguration/);
  });
}

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

test("the Deployment runs 2 restricted replicas with probes on /readyz and /healthz and only known settings", () => {
  const [d] = docs(join(ROOT, "base/deployment.yaml"));
  assert.equal(d!["spec"].replicas, 2);
  const pod = d!["spec"].template.spec;
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, "RuntimeDefault");
  const [c] = pod.containers as Obj[];
  assert.deepEqual(c!["securityContext"], { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ["ALL"] } });
  assert.equal(c!["readinessProbe"].httpGet.path, "/readyz");
  assert.equal(c!["livenessProbe"].httpGet.path, "/healthz");
  assert.ok(c!["resources"].requests.cpu && c!["resources"].limits.memory);
  const known = new Set(SETTINGS.map((s) => s.env));
  const envs = [c!, ...["self-bootstrap", "cert-manager"].map((o) => docs(join(ROOT, `overlays/${o}/deployment-patch.yaml`))[0]!["spec"].template.spec.containers[0])];
  for (const e of envs.flatMap((x: Obj) => x["env"] as Obj[])) assert.ok(known.has(e["name"]), `unknown setting ${e["name"]}`);
});

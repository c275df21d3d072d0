// Releases: the GitHub workflows pass actionlint (built from its pinned Go module, test/prepare.ts),
// CI runs the README's test command, and the release pushes the images the manifests and the chart
// name, at the version they name: package.json's.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { parse } from "yaml";
import { actionlintBinary } from "../localcluster/tools/go-tools.ts";
import { DEFAULT_IMAGE_REPOSITORY, defaultImage } from "../webhook/injection-rows.ts";
import { packageVersion } from "../webhook/package-version.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const WORKFLOWS = join(ROOT, ".github", "workflows");
const read = (path: string): string => readFileSync(join(ROOT, path), "utf8");
// A loose view of parsed YAML, for this test only.
type Obj = Record<string, any>;
const yaml = (path: string): Obj => parse(read(path)) as Obj;

function actionlint(): string | undefined {
  try {
    return actionlintBinary();
  } catch (e) {
    if (process.env.CI === "true") throw e;
    return undefined;
  }
}
const lint = actionlint();
const skip = lint === undefined && "actionlint could not be built here (no Go?)";

test("actionlint finds nothing wrong in .github/workflows", { skip }, () => {
  const files = readdirSync(WORKFLOWS).map((f) => join(WORKFLOWS, f));
  assert.deepEqual(files.map((f) => f.slice(WORKFLOWS.length + 1)).sort(), ["ci.yml", "release.yml"]);
  const run = spawnSync(lint!, ["-no-color", ...files], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  assert.equal(run.status, 0, `${run.stdout}${run.stderr}`);
});

test("actionlint does fail a workflow with a mistake (so the check above can fail)", { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-actionlint-"));
  try {
    mkdirSync(join(dir, ".github", "workflows"), { recursive: true });
    const bad = join(dir, ".github", "workflows", "bad.yml");
    writeFileSync(bad, "on: push\njobs:\n  test:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n");
    const run = spawnSync(lint!, ["-no-color", bad], { cwd: dir, encoding: "utf8", timeout: 60_000 });
    assert.equal(run.status, 1, `${run.stdout}${run.stderr}`);
    assert.match(run.stdout, /matrix/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("every action a workflow uses is pinned to a full commit, with the release it is noted beside", () => {
  // A tag can be moved to other code after review; a commit cannot (GitHub's security hardening guide).
  for (const file of readdirSync(WORKFLOWS)) {
    const lines = read(join(".github", "workflows", file)).split("\n").filter((l) => /^\s*(-\s+)?uses:/.test(l));
    assert.ok(lines.length > 0, file);
    for (const line of lines) assert.match(line, /uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/, `${file}: ${line.trim()}`);
  }
  const dependabot = yaml(".github/dependabot.yml");
  assert.ok((dependabot["updates"] as Obj[]).some((u) => u["package-ecosystem"] === "github-actions"), "dependabot keeps the pins current");
});

test("CI runs .ci/run, the README's test command, on pull requests and pushes to main", () => {
  const ci = yaml(".github/workflows/ci.yml");
  assert.ok("pull_request" in ci["on"]);
  assert.deepEqual(ci["on"].push.branches, ["main"]);
  const runs = (ci["jobs"].test.steps as Obj[]).map((s) => s["run"] ?? "").join("\n");
  assert.match(runs, /bash \.ci\/run/);
  assert.match(read(".ci/run"), /^npm test$/m);
  assert.match(read("README.md"), /npm ci && npm test/);
});

test("the chart, the kustomize base, the sidecar image default and package.json name one version, and the release pushes the images they name, for linux/amd64 and arm64 with an SBOM", () => {
  const version = packageVersion();
  assert.equal(version, (JSON.parse(read("package.json")) as { version: string }).version);
  const chart = yaml("manifests/helm/tailcar/Chart.yaml");
  assert.equal(chart["version"], version, "Chart.yaml version");
  assert.equal(chart["appVersion"], version, "Chart.yaml appVersion");
  const values = yaml("manifests/helm/tailcar/values.yaml");
  assert.equal(values["image"].tag, "", "the chart's image tag is its appVersion unless given");
  const [image] = yaml("manifests/base/kustomization.yaml")["images"] as Obj[];
  assert.deepEqual(image, { name: "tailcar-webhook", newName: values["image"].repository, newTag: version });
  assert.equal(defaultImage(version), `${DEFAULT_IMAGE_REPOSITORY}:${version}`, "the sidecar image an injector of this version injects by default");

  const release = yaml(".github/workflows/release.yml");
  assert.match(JSON.stringify(release["on"].push.tags), /v\[0-9\]/);
  const versionStep = (release["jobs"].version.steps as Obj[]).map((s) => s["run"] ?? "").join("\n");
  assert.match(versionStep, /jq -r \.version package\.json/);
  assert.match(versionStep, /"v\$version" != "\$GITHUB_REF_NAME"/);
  const images = release["jobs"].images;
  const pushed = (images.strategy.matrix.include as Obj[]).map((m) => ({ image: `ghcr.io/tailcar/${m["image"]}`, dockerfile: m["dockerfile"] }));
  assert.deepEqual(pushed, [
    { image: image!["newName"], dockerfile: "Dockerfile.webhook" },
    { image: DEFAULT_IMAGE_REPOSITORY, dockerfile: "Dockerfile.sidecar" },
  ]);
  const build = (images.steps as Obj[]).find((s) => String(s["uses"]).startsWith("docker/build-push-action@"))!;
  assert.equal(build["with"].platforms, "linux/amd64,linux/arm64");
  assert.equal(build["with"].tags, "ghcr.io/tailcar/${{ matrix.image }}:${{ needs.version.outputs.version }}");
  assert.equal(build["with"].sbom, true);
  assert.equal(build["with"].push, true);
});

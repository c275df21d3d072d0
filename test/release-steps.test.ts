// The release workflow's own shell steps, run here as GitHub would run them (bash -e, the same
// environment variables, $GITHUB_OUTPUT and $GITHUB_ENV as files), on a copy of the repository's
// files: the version gate and the chart's lint and package. What needs GitHub itself (registry
// login, pushes, buildx for two platforms, the release) is left to the workflow; the images are
// built from the same Dockerfiles by the e2e tests.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";
import { parse } from "yaml";
import { helmBinary } from "../localcluster/tools/go-tools.ts";
import { packageVersion } from "../webhook/package-version.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

interface Step {
  readonly id?: string;
  readonly name?: string;
  readonly run?: string;
  readonly uses?: string;
}
interface Workflow {
  readonly jobs: Record<string, { readonly steps: readonly Step[] }>;
}
const release = parse(readFileSync(join(ROOT, ".github", "workflows", "release.yml"), "utf8")) as Workflow;

function step(job: string, named: RegExp): string {
  const found = release.jobs[job]?.steps.find((s) => s.run !== undefined && named.test(s.name ?? s.id ?? ""));
  assert.ok(found?.run, `release.yml: job ${job} has a run step named like ${named}`);
  return found.run;
}

interface StepRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** What the step wrote to $GITHUB_OUTPUT. */
  readonly output: string;
}

/** Runs a step's script as GitHub's default `bash -e {0}` shell does, in `cwd`. */
function runStep(script: string, cwd: string, env: Record<string, string>): StepRun {
  const output = join(cwd, ".github-output");
  writeFileSync(output, "");
  const run = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
    cwd,
    encoding: "utf8",
    timeout: 120_000,
    env: { PATH: process.env["PATH"] ?? "", HOME: cwd, GITHUB_OUTPUT: output, GITHUB_ENV: join(cwd, ".github-env"), ...env },
  });
  return { status: run.status, stdout: run.stdout ?? "", stderr: run.stderr ?? "", output: readFileSync(output, "utf8") };
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "tailcar-release-"));
}

const JQ = spawnSync("jq", ["--version"]).status === 0;
if (!JQ && process.env["CI"] === "true") throw new Error("jq is missing: .ci/run installs it (the release's version step runs it, as GitHub's runners have it)");
const noJq = !JQ && "jq is not installed (the release's version step uses it; .ci/run installs it)";

test("the release's version step outputs package.json's version for the tag v<version>", { skip: noJq }, () => {
  const dir = scratch();
  try {
    cpSync(join(ROOT, "package.json"), join(dir, "package.json"));
    const run = runStep(step("version", /package\.json/), dir, { GITHUB_REF_NAME: `v${packageVersion()}` });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.equal(run.output, `version=${packageVersion()}\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the release's version step fails, naming both, for a tag that is not v + package.json's version", { skip: noJq }, () => {
  const dir = scratch();
  try {
    cpSync(join(ROOT, "package.json"), join(dir, "package.json"));
    const run = runStep(step("version", /package\.json/), dir, { GITHUB_REF_NAME: "v99.0.0" });
    assert.equal(run.status, 1);
    assert.match(run.stdout, new RegExp(`::error::tag v99\\.0\\.0 is not v${packageVersion().replace(/\./g, "\\.")}`));
    assert.equal(run.output, "", "no version for the later jobs");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

function helm(): string | undefined {
  try {
    return helmBinary();
  } catch (e) {
    if (process.env["CI"] === "true") throw e;
    return undefined;
  }
}
const HELM = helm();

test("the release's chart step lints the chart strictly and packages it as tailcar-<version>.tgz, the file the push step sends", { skip: HELM === undefined && "helm could not be built here (no Go?)" }, () => {
  const dir = scratch();
  try {
    cpSync(join(ROOT, "manifests", "helm", "tailcar"), join(dir, "manifests", "helm", "tailcar"), { recursive: true });
    const run = runStep(step("chart", /[Ll]int and package/), dir, {
      HELM: HELM!,
      HELM_CACHE_HOME: join(dir, ".helm-cache"),
      HELM_CONFIG_HOME: join(dir, ".helm-config"),
      HELM_DATA_HOME: join(dir, ".helm-data"),
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const pushed = step("chart", /[Pp]ush the chart/);
    assert.match(pushed, /"dist\/tailcar-\$\{\{ needs\.version\.outputs\.version \}\}\.tgz"/);
    assert.ok(existsSync(join(dir, "dist", `tailcar-${packageVersion()}.tgz`)), `dist/ holds ${JSON.stringify(spawnSync("ls", [join(dir, "dist")], { encoding: "utf8" }).stdout)}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the release's chart step fails when the chart does not lint", { skip: HELM === undefined && "helm could not be built here (no Go?)" }, () => {
  const dir = scratch();
  try {
    const chart = join(dir, "manifests", "helm", "tailcar");
    cpSync(join(ROOT, "manifests", "helm", "tailcar"), chart, { recursive: true });
    writeFileSync(join(chart, "Chart.yaml"), readFileSync(join(chart, "Chart.yaml"), "utf8").replace(/^version: .*$/m, "version: not-a-version"));
    const run = runStep(step("chart", /[Ll]int and package/), dir, { HELM: HELM!, HELM_CACHE_HOME: join(dir, ".c"), HELM_CONFIG_HOME: join(dir, ".g"), HELM_DATA_HOME: join(dir, ".d") });
    assert.notEqual(run.status, 0);
    assert.ok(!existsSync(join(dir, "dist")), "nothing packaged");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// Runs the built `tailcar check` against a cluster and reads its JSON checklist, for the e2e files
// that test it (check.test.ts against the API server alone, real-node-metrics.test.ts with pods that run).
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { CLI } from "../../localcluster/webhook-process.ts";

export interface Check {
  readonly group: string;
  readonly id: string;
  readonly status: "ok" | "fail" | "warn" | "skip";
  readonly message: string;
  readonly fix?: string;
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly checks: Check[];
}

export function tailcarCheck(kubeconfig: string, args: readonly string[], json = true): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, "check", "--kubeconfig", kubeconfig, ...(json ? ["--output", "json"] : []), ...args], { timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
      const checks = json && stdout.startsWith("{") ? (JSON.parse(stdout) as { checks: Check[] }).checks : [];
      resolve({ code, stdout, stderr, checks });
    });
  });
}

/** The checks with this id (and group, when given); fails naming what the run printed when there are none. */
export function find(run: Run, id: string, group?: string): Check[] {
  const found = run.checks.filter((c) => c.id === id && (group === undefined || c.group === group));
  assert.ok(found.length > 0, `no check ${id}${group ? ` in ${group}` : ""}:\n${run.stdout}\n${run.stderr}`);
  return found;
}

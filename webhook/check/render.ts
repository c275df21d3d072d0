// The checklist as text (grouped, one mark a line, the fix under each ✗ and ‼) or as JSON.
import { summarize, type CheckResult, type CheckStatus } from "./result.ts";

export const MARKS: Record<CheckStatus, string> = { ok: "✓", fail: "✗", warn: "‼", skip: "–" };

export interface Report {
  /** Where the checks ran: the kubeconfig context and server, or "manifests (offline)". */
  readonly target: string;
  readonly results: readonly CheckResult[];
}

const indent = (text: string, by: string): string => text.split("\n").map((line) => `${by}${line}`).join("\n");

export function renderText(report: Report): string {
  const out: string[] = [`tailcar check: ${report.target}`];
  let group: string | undefined;
  for (const r of report.results) {
    if (r.group !== group) {
      group = r.group;
      out.push("", group);
    }
    out.push(indent(r.message, "    ").replace(/^ {4}/, `  ${MARKS[r.status]} `));
    if (r.fix !== undefined && r.status !== "ok" && r.status !== "skip") out.push(indent(`fix: ${r.fix}`, "      "));
  }
  const s = summarize(report.results);
  const problems = s.fail === 0 ? "no problems" : `${s.fail} problem${s.fail === 1 ? "" : "s"}`;
  out.push("", `${problems}, ${s.warn} warning${s.warn === 1 ? "" : "s"}, ${s.ok} passed, ${s.skip} skipped`, "");
  return out.join("\n");
}

export function renderJson(report: Report): string {
  return `${JSON.stringify({ target: report.target, summary: summarize(report.results), checks: report.results }, null, 2)}\n`;
}

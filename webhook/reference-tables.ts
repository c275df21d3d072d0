// The reference tables of docs/, each written from its rows between markers, and the Helm chart's
// settings and version fields (chart-values.ts, release-version.ts). The docs test fails when a file
// and its rows disagree; `npm run docs:settings` writes them again.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { renderTable, replaceBetweenMarkers, type Column } from "../settings/docs-table.ts";
import { BASE_DEPLOYMENT, baseChoices, CHART_ENV_TEMPLATE, CHART_VALUES, chartRows, renderEnvTemplate, renderValuesBlock } from "./chart-values.ts";
import { packageVersion } from "./package-version.ts";
import { VERSIONED_FILES, withVersion } from "./release-version.ts";
import type { AnyRow } from "../settings/row.ts";
import { SIDECAR_ROWS } from "../settings/sidecar-rows.ts";
import { FILES_ROW } from "./annotations.ts";
import { POD_ROWS } from "./injection-rows.ts";
import { INJECT_ROWS } from "./inject-command.ts";
import { UNINJECT_ROWS } from "./uninject-command.ts";
import { WEBHOOK_ROWS } from "./webhook-rows.ts";
import { CHECK_ROWS } from "./check/rows.ts";

export interface ReferenceTable {
  /** Under the repository's root. */
  readonly doc: string;
  readonly name: string;
  readonly rows: readonly AnyRow[];
  readonly columns: readonly Column[];
}

const flagged = (rows: readonly AnyRow[]): AnyRow[] => rows.filter((r) => r.flag !== undefined);

export const REFERENCE_TABLES: readonly ReferenceTable[] = [
  { doc: "docs/webhook.md", name: "webhook", rows: flagged(WEBHOOK_ROWS), columns: ["fileKey", "flag", "env", "default", "help"] },
  { doc: "docs/webhook.md", name: "inject", rows: flagged(INJECT_ROWS), columns: ["flag", "default", "help"] },
  { doc: "docs/webhook.md", name: "uninject", rows: flagged(UNINJECT_ROWS), columns: ["flag", "default", "help"] },
  { doc: "docs/annotations.md", name: "annotations", rows: [FILES_ROW, ...POD_ROWS], columns: ["annotation", "flag", "default", "kind", "help"] },
  { doc: "docs/sidecar.md", name: "sidecar", rows: SIDECAR_ROWS, columns: ["flag", "env", "default", "help"] },
  { doc: "docs/check.md", name: "check", rows: CHECK_ROWS, columns: ["flag", "default", "help"] },
];

/** Every doc with its tables as the rows say, and the chart's files as the rows and the version say: path → text. */
export function expectedDocs(root: URL): Map<string, string> {
  const read = (path: string): string => readFileSync(new URL(path, root), "utf8");
  const docs = new Map<string, string>();
  for (const t of REFERENCE_TABLES) {
    const text = docs.get(t.doc) ?? read(t.doc);
    docs.set(t.doc, replaceBetweenMarkers(text, t.name, renderTable(t.rows, t.columns)));
  }
  const { injection, webhook } = chartRows();
  docs.set(CHART_VALUES, replaceBetweenMarkers(read(CHART_VALUES), "chart", renderValuesBlock(baseChoices(read(BASE_DEPLOYMENT), [...injection, ...webhook])), "yaml"));
  docs.set(CHART_ENV_TEMPLATE, renderEnvTemplate());
  for (const file of VERSIONED_FILES) docs.set(file, withVersion(file, read(file), packageVersion()));
  return docs;
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  for (const [doc, text] of expectedDocs(root)) {
    if (existsSync(new URL(doc, root)) && readFileSync(new URL(doc, root), "utf8") === text) continue;
    writeFileSync(new URL(doc, root), text);
    process.stdout.write(`wrote ${doc}\n`);
  }
}

// The reference tables of docs/, each written from its rows between markers. The docs test fails
// when a table and its rows disagree; `npm run docs:settings` writes them again.
import { readFileSync, writeFileSync } from "node:fs";
import { renderTable, replaceBetweenMarkers, type Column } from "../settings/docs-table.ts";
import type { AnyRow } from "../settings/row.ts";
import { SIDECAR_ROWS } from "../settings/sidecar-rows.ts";
import { FILES_ROW } from "./annotations.ts";
import { POD_ROWS } from "./injection-rows.ts";
import { INJECT_ROWS } from "./inject-command.ts";
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
  { doc: "docs/annotations.md", name: "annotations", rows: [FILES_ROW, ...POD_ROWS], columns: ["annotation", "flag", "default", "kind", "help"] },
  { doc: "docs/sidecar.md", name: "sidecar", rows: SIDECAR_ROWS, columns: ["flag", "env", "default", "help"] },
  { doc: "docs/check.md", name: "check", rows: CHECK_ROWS, columns: ["flag", "default", "help"] },
];

/** Every doc with its tables as the rows say: path → text. */
export function expectedDocs(root: URL): Map<string, string> {
  const docs = new Map<string, string>();
  for (const t of REFERENCE_TABLES) {
    const text = docs.get(t.doc) ?? readFileSync(new URL(t.doc, root), "utf8");
    docs.set(t.doc, replaceBetweenMarkers(text, t.name, renderTable(t.rows, t.columns)));
  }
  return docs;
}

if (import.meta.main) {
  const root = new URL("../", import.meta.url);
  for (const [doc, text] of expectedDocs(root)) {
    if (readFileSync(new URL(doc, root), "utf8") === text) continue;
    writeFileSync(new URL(doc, root), text);
    process.stdout.write(`wrote ${doc}\n`);
  }
}

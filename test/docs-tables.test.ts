// The reference tables in docs/ are written from the settings rows: a row changed without
// `npm run docs:settings` (or a table edited by hand) fails here.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { expectedDocs, REFERENCE_TABLES } from "../webhook/reference-tables.ts";

const ROOT = new URL("../", import.meta.url);

test("every reference table in docs/ is what its rows render (npm run docs:settings writes them)", () => {
  for (const [doc, text] of expectedDocs(ROOT)) {
    assert.ok(readFileSync(new URL(doc, ROOT), "utf8") === text, `${doc} disagrees with its settings rows: run npm run docs:settings`);
  }
});

test("every flag, variable and annotation of the rows is named in its doc", () => {
  for (const t of REFERENCE_TABLES) {
    const doc = readFileSync(new URL(t.doc, ROOT), "utf8");
    for (const row of t.rows) {
      for (const column of ["flag", "env", "annotation"] as const) {
        const name = row[column];
        if (name !== undefined && t.columns.includes(column)) assert.ok(doc.includes(`\`${name}\``), `${name} missing from ${t.doc}`);
      }
    }
  }
});

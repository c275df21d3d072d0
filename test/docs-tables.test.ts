// The reference tables in docs/ and the Helm chart's settings are written from the settings rows,
// and the chart's and the kustomize base's version from package.json: a row or the version changed
// without `npm run docs:settings` (or a generated part edited by hand) fails here.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { expectedDocs, REFERENCE_TABLES } from "../webhook/reference-tables.ts";

const ROOT = new URL("../", import.meta.url);

test("every reference table in docs/, the chart's settings and the versions are what the rows and package.json render (npm run docs:settings writes them)", () => {
  const docs = expectedDocs(ROOT);
  assert.ok(docs.has("manifests/helm/tailcar/values.yaml") && docs.has("manifests/helm/tailcar/templates/_settings.tpl") && docs.has("manifests/base/kustomization.yaml"));
  for (const [doc, text] of docs) {
    assert.ok(existsSync(new URL(doc, ROOT)) && readFileSync(new URL(doc, ROOT), "utf8") === text, `${doc} disagrees with its settings rows or package.json's version: run npm run docs:settings`);
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

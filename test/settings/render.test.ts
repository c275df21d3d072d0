// --help and the docs tables are written from the rows: what they show, and the markers that let
// a test compare a doc with its rows.
import assert from "node:assert/strict";
import { test } from "node:test";
import { renderTable, replaceBetweenMarkers, withMarkers } from "../../settings/docs-table.ts";
import { renderHelp } from "../../settings/help.ts";
import { bool, duration, oneOf } from "../../settings/kinds.ts";
import { optional, setting } from "../../settings/row.ts";

const ROWS = [
  setting("grace", duration, 10_000, "how long", { flag: "--grace", env: "T_GRACE", fileKey: "grace" }),
  setting("mode", oneOf(["a", "b|c"]), "a", "which <one>", { flag: "--mode", short: "m", annotation: "x.io/mode" }),
  setting("on", bool, false, "a switch", { flag: "--on" }),
  optional("secretFree", duration, "no default", { env: "T_ONLY_ENV" }),
] as const;

test("--help shows each flag with its argument, meaning, default and variable; a switch has no argument and no default", () => {
  assert.equal(renderHelp(ROWS, { env: true }), [
    `  ${"    --grace DURATION".padEnd(38)} how long (default 10s)`,
    `  ${" ".repeat(38)} env T_GRACE`,
    `  ${"-m, --mode a|b|c".padEnd(38)} which <one> (default a)`,
    `  ${"    --on".padEnd(38)} a switch`,
  ].join("\n"));
});

test("a table cell escapes the pipe and angle brackets, and an unset source is a dash", () => {
  const table = renderTable(ROWS, ["flag", "annotation", "default", "help"]);
  assert.equal(table.split("\n")[3], "| `--mode` | `x.io/mode` | `a` | which &lt;one&gt; |");
  assert.equal(table.split("\n")[5], "| — | — | — | no default |");
});

test("a table goes between its markers, and a doc without them says which lines to add", () => {
  const doc = `intro\n${withMarkers("t", "old")}\nafter\n`;
  assert.equal(replaceBetweenMarkers(doc, "t", "new"), `intro\n${withMarkers("t", "new")}\nafter\n`);
  assert.throws(() => replaceBetweenMarkers("no markers", "t", "x"), /markers of the table "t" not found: add the lines/);
});

// Reference tables in docs/ written from the rows, between markers, so a test can tell when the
// docs and the rows disagree (and `npm run docs:settings` writes them again).
import { defaultText, type AnyRow } from "./row.ts";

export type Column = "fileKey" | "flag" | "env" | "annotation" | "inject" | "kind" | "default" | "help";

const HEADINGS: Record<Column, string> = {
  fileKey: "config key", flag: "flag", env: "environment variable", annotation: "annotation",
  inject: "`tailcar inject`", kind: "value", default: "default", help: "meaning",
};

const code = (text: string | undefined): string => (text === undefined || text === "" ? "—" : `\`${text.replaceAll("|", "\\|")}\``);
const cell = (text: string): string => text.replaceAll("|", "\\|").replaceAll("\n", " ").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

function cellOf(row: AnyRow, column: Column): string {
  switch (column) {
    case "fileKey": return code(row.fileKey);
    case "flag": return code(row.flag);
    case "env": return code(row.env);
    case "annotation": return code(row.annotation);
    case "inject": return row.inject ? "yes" : "—";
    case "kind": return cell(row.kind.name);
    case "default": return row.defaultText !== undefined ? cell(row.defaultText) : code(defaultText(row));
    case "help": return cell(row.help);
  }
}

export function renderTable(rows: readonly AnyRow[], columns: readonly Column[]): string {
  return [
    `| ${columns.map((c) => HEADINGS[c]).join(" | ")} |`,
    `|${columns.map(() => "---").join("|")}|`,
    ...rows.map((r) => `| ${columns.map((c) => cellOf(r, c)).join(" | ")} |`),
  ].join("\n");
}

/** How the marker lines are written: an HTML comment in Markdown, a `#` comment in YAML. */
export type MarkerStyle = "html" | "yaml";

const comment = (text: string, style: MarkerStyle): string => (style === "html" ? `<!-- ${text} -->` : `# ${text}`);
const begin = (name: string, style: MarkerStyle): string => comment(`settings:${name} begin (written by npm run docs:settings; edit the rows, not this ${style === "html" ? "table" : "block"})`, style);
const end = (name: string, style: MarkerStyle): string => comment(`settings:${name} end`, style);

/** `doc` with the text between the markers named `name` replaced by `content`; throws when the markers are missing. */
export function replaceBetweenMarkers(doc: string, name: string, content: string, style: MarkerStyle = "html"): string {
  const b = doc.indexOf(begin(name, style));
  const e = doc.indexOf(end(name, style));
  if (b < 0 || e < b) throw new Error(`markers of the table "${name}" not found: add the lines\n${begin(name, style)}\n${end(name, style)}`);
  return `${doc.slice(0, b + begin(name, style).length)}\n${content}\n${doc.slice(e)}`;
}

/** Both marker lines around `content`, for a table put in a doc for the first time. */
export function withMarkers(name: string, content: string, style: MarkerStyle = "html"): string {
  return `${begin(name, style)}\n${content}\n${end(name, style)}`;
}

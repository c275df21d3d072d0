// --help written from the rows: flag, argument, meaning, default, and the environment variable.
import { defaultText, type AnyRow } from "./row.ts";

export function renderHelp(rows: readonly AnyRow[], options: { readonly env?: boolean } = {}): string {
  return rows.filter((r) => r.flag !== undefined).map((r) => {
    const flag = `${r.short !== undefined ? `-${r.short}, ` : "    "}${r.flag}${r.kind.metavar === "" ? "" : ` ${r.kind.metavar}`}`;
    // A switch is off unless given: "(default false)" says nothing.
    const dflt = r.kind.boolean && r.default === false ? "" : defaultText(r);
    const lead = flag.length < 38 ? `  ${flag.padEnd(38)}` : `  ${flag}\n  ${"".padEnd(38)}`;
    const line = `${lead} ${r.help}${dflt === "" ? "" : ` (default ${dflt})`}`;
    return options.env && r.env !== undefined ? `${line}\n  ${"".padEnd(38)} env ${r.env}` : line;
  }).join("\n");
}

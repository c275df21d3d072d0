// The command lines of the benchmarks and the development tools in bench/ (webhook-ab, -callgrind, -micro, -profile):
// node:util's parseArgs with numeric options, so that a mistyped flag or a value that is not a
// number stops the tool at once with its usage instead of running minutes with a default.
import { parseArgs } from "node:util";

export type OptionKinds = Readonly<Record<string, "number" | "string" | "boolean">>;

export type ParsedToolArgs =
  | { readonly help: true }
  | { readonly help: false; readonly positionals: readonly string[]; readonly values: Readonly<Record<string, number | string | boolean | undefined>> }
  | { readonly error: string };

/** Pure: what the arguments ask for, or what is wrong with them. */
export function parseToolArgs(args: readonly string[], kinds: OptionKinds): ParsedToolArgs {
  const options = Object.fromEntries([...Object.entries(kinds).map(([name, kind]) => [name, { type: kind === "boolean" ? ("boolean" as const) : ("string" as const) }]), ["help", { type: "boolean" as const, short: "h" }]]);
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e) {
    return { error: (e as Error).message };
  }
  // --help wins over a bad value next to it: the user asked how to call the tool.
  if (parsed.values["help"] === true) return { help: true };
  const values: Record<string, number | string | boolean | undefined> = {};
  for (const [name, kind] of Object.entries(kinds)) {
    const raw = parsed.values[name];
    if (kind === "boolean") values[name] = raw === true;
    if (typeof raw !== "string") continue;
    if (kind === "string") values[name] = raw;
    else if (raw.trim() === "" || !Number.isFinite(Number(raw))) return { error: `--${name} needs a number, got ${JSON.stringify(raw)}` };
    else values[name] = Number(raw);
  }
  return { help: false, positionals: parsed.positionals, values };
}

export interface ToolArgs {
  readonly positionals: readonly string[];
  number(name: string, fallback: number): number;
  string(name: string, fallback: string): string;
  /** Whether a boolean option was given. */
  flag(name: string): boolean;
}

/** The tool's arguments; --help prints `usage` and exits 0, a bad argument prints it and exits 2. */
export function toolArgs(tool: string, usage: string, kinds: OptionKinds, args: readonly string[] = process.argv.slice(2)): ToolArgs {
  const parsed = parseToolArgs(args, kinds);
  if ("error" in parsed) {
    process.stderr.write(`${tool}: ${parsed.error}\n${usage}\n`);
    process.exit(2);
  }
  if (parsed.help) {
    process.stdout.write(`${usage}\n`);
    process.exit(0);
  }
  const { values, positionals } = parsed;
  return {
    positionals,
    number: (name, fallback) => (typeof values[name] === "number" ? values[name] : fallback),
    string: (name, fallback) => (typeof values[name] === "string" ? values[name] : fallback),
    flag: (name) => values[name] === true,
  };
}

/**
 * A benchmark's command line: --quick (a short smoke run that only prints, unless --write) and
 * --write; --help prints the usage, anything else exits 2 naming it.
 */
export function benchArgs(name: string, argv: readonly string[] = process.argv.slice(2)): { quick: boolean; write: boolean } {
  const usage = [
    `usage: node bench/${name}.ts [--quick] [--write]`,
    `  A full run writes its BENCHMARKS.md section and bench/results/${name}.json; --quick is a short`,
    "  smoke run that only prints (unless --write). Progress goes to stderr. npm run bench runs them all.",
  ].join("\n");
  const args = toolArgs(`bench ${name}`, usage, { quick: "boolean", write: "boolean" }, argv);
  if (args.positionals.length > 0) {
    process.stderr.write(`bench ${name}: unexpected argument ${JSON.stringify(args.positionals[0])}\n${usage}\n`);
    process.exit(2);
  }
  const quick = args.flag("quick");
  return { quick, write: !quick || args.flag("write") };
}

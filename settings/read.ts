// The engine: reads a command's rows from flags > environment > config file > defaults, checks
// every value with its kind's one rule, and says which flag, variable or key a bad value came from.
import { Invalid } from "./kind.ts";
import type { AnyRow, ValuesOf } from "./row.ts";
import { nearestName } from "./suggest.ts";
import { redactCredentials, redactUrlText } from "./url-credentials.ts";

export class SettingsError extends Error {
  override name = "SettingsError";
}

export interface SettingsInput {
  /** The command line after the subcommand. */
  readonly argv?: readonly string[];
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The config file's mapping (parsed by the caller) and how messages name it. */
  readonly file?: { readonly values: Readonly<Record<string, unknown>>; readonly name: string };
  /** For messages: "tailcar webhook". */
  readonly command: string;
}

/** Texts given for one row, and where they came from (for messages). */
interface Given {
  readonly texts: string[];
  readonly source: string;
}

/** Why a given text is refused, naming where it came from and hiding URL credentials. */
export function invalidMessage(source: string, text: string, problem: string, isUrl = false): string {
  return `${source}: ${JSON.stringify(isUrl ? redactUrlText(text) : redactCredentials(text))} ${problem}`;
}

function fromFlags(rows: readonly AnyRow[], argv: readonly string[], command: string): Map<string, Given> {
  // No flags, no parseArgs: a sidecar in a pod has none (every setting is in its environment), and
  // node:util loads parseArgs as a module of its own on first use, resident memory every JSON and
  // forwarding sidecar kept (docs/decisions.md).
  if (argv.length === 0) return new Map();
  const byName = new Map<string, AnyRow>();
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const row of rows) {
    if (row.flag === undefined) continue;
    const name = row.flag.slice(2);
    byName.set(name, row);
    options[name] = { type: row.kind.boolean ? "boolean" : "string", ...(row.short !== undefined && { short: row.short }) };
  }
  // Not strict: unknown options and missing values come back as tokens, and are reported here with
  // a suggestion and the flag's name instead of parseArgs' generic message.
  // Not `import { parseArgs } from "node:util"`: node:util's ES module facade evaluates every
  // export, which loads the stream modules and net.
  const { tokens } = process.getBuiltinModule("node:util").parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, allowNegative: true, tokens: true });
  const given = new Map<string, Given>();
  const add = (row: AnyRow, text: string, flag: string): void => {
    const seen = given.get(row.key);
    if (seen && row.kind.list) seen.texts.push(text);
    else given.set(row.key, { texts: [text], source: flag });
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.kind === "option-terminator") throw new SettingsError(`unexpected "--" (see ${command} --help)`);
    if (token.kind === "positional") throw new SettingsError(`unexpected argument ${JSON.stringify(token.value)} (see ${command} --help)`);
    const row = byName.get(token.name);
    if (row === undefined) {
      const near = token.rawName.startsWith("--") ? nearestName(token.rawName, [...byName.keys()].map((n) => `--${n}`), "--") : undefined;
      throw new SettingsError(`unknown option "${token.rawName}"${near ? `: did you mean ${near}?` : ""} (see ${command} --help)`);
    }
    const flag = row.flag!;
    if (row.kind.boolean) {
      let text = token.rawName.startsWith("--no-") ? "false" : (token.value ?? "true");
      // `--report-missed-pods false`, as the flag was written before it was read by parseArgs.
      const next = tokens[i + 1];
      if (token.value === undefined && next?.kind === "positional" && /^(true|false|1|0)$/.test(next.value)) {
        text = token.rawName.startsWith("--no-") ? String(!["true", "1"].includes(next.value)) : next.value;
        i++;
      }
      add(row, text, flag);
      continue;
    }
    if (token.rawName.startsWith("--no-")) throw new SettingsError(`unknown option "${token.rawName}" (${flag} is not a switch; see ${command} --help)`);
    // A value that looks like the next flag was taken for one: say the flag needs a value.
    if (token.value === undefined || (token.inlineValue === false && token.value.startsWith("--") && byName.has(token.value.slice(2).split("=")[0]!))) {
      throw new SettingsError(`${flag} needs a value`);
    }
    add(row, token.value, flag);
  }
  return given;
}

function fromEnv(rows: readonly AnyRow[], env: Readonly<Record<string, string | undefined>>): Map<string, Given> {
  const given = new Map<string, Given>();
  for (const row of rows) {
    const text = row.env === undefined ? undefined : env[row.env];
    if (text !== undefined && text !== "") given.set(row.key, { texts: [text], source: row.env! });
  }
  return given;
}

function fromFile(rows: readonly AnyRow[], file: NonNullable<SettingsInput["file"]>): Map<string, Given> {
  const byKey = new Map(rows.filter((r) => r.fileKey !== undefined).map((r) => [r.fileKey!, r]));
  const given = new Map<string, Given>();
  for (const [key, raw] of Object.entries(file.values)) {
    const row = byKey.get(key);
    if (!row) {
      const near = nearestName(key, byKey.keys());
      throw new SettingsError(`${file.name}: unknown setting "${key}"${near ? `: did you mean "${near}"?` : ` (known: ${[...byKey.keys()].join(", ")})`}`);
    }
    const items = Array.isArray(raw) ? raw : [raw];
    for (const item of items) {
      if (!["string", "number", "boolean"].includes(typeof item)) throw new SettingsError(`${file.name}: ${key} must be a string, number or boolean`);
    }
    given.set(row.key, { texts: items.map(String), source: `${file.name}: ${key}` });
  }
  return given;
}

/** One row's value from its given texts, or its default. Throws SettingsError naming the source. */
export function valueOf(row: AnyRow, given: Given | undefined): unknown {
  if (given === undefined) return row.default;
  const values: unknown[] = [];
  for (const text of given.texts) {
    // An optional setting given as empty text is unset ("--cpu-limit ''": no CPU limit).
    if (text === "" && row.optional) return undefined;
    const value = row.kind.parse(text.trim());
    if (value instanceof Invalid) throw new SettingsError(invalidMessage(given.source, row.kind.shown?.(text) ?? text, value.problem, row.kind.url));
    values.push(value);
  }
  return row.kind.list ? values.flat() : values.at(-1);
}

/**
 * Every row's value: flags over environment over config file over defaults, row by row. Throws
 * SettingsError naming the flag, variable or file key of each bad value (one a line), or an unknown
 * flag with the nearest known one.
 */
export function readSettings<const R extends readonly AnyRow[]>(rows: R, input: SettingsInput): ValuesOf<R> {
  const flags = fromFlags(rows, input.argv ?? [], input.command);
  const env = fromEnv(rows, input.env ?? {});
  const file = input.file ? fromFile(rows, input.file) : new Map<string, Given>();
  const values: Record<string, unknown> = {};
  // Every bad value at once, one a line: a first run with several mistakes needs one retry, not several.
  const problems: string[] = [];
  for (const row of rows) {
    try {
      values[row.key] = valueOf(row, flags.get(row.key) ?? env.get(row.key) ?? file.get(row.key));
    } catch (e) {
      if (!(e instanceof SettingsError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length > 0) throw new SettingsError(problems.join("\n"));
  return values as ValuesOf<R>;
}

/** The text of one row as given on the command line or in the environment, before the file is read (for --config itself). */
export function givenText(rows: readonly AnyRow[], key: string, input: SettingsInput): string | undefined {
  const given = fromFlags(rows, input.argv ?? [], input.command).get(key) ?? fromEnv(rows, input.env ?? {}).get(key);
  return given?.texts.at(-1);
}

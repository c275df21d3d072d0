// The start every subcommand with rows shares: read its command line; a wrong one is answered with
// the problem and the usage on stderr (exit 2), --help with the usage on stdout (exit 0).
import { SettingsError } from "./read.ts";

/** The parsed command line, or the exit status once the usage has been written. */
export function readCommandLine<T extends { readonly help: boolean }>(command: string, usage: string, parse: () => T): T | number {
  let parsed: T;
  try {
    parsed = parse();
  } catch (e) {
    if (!(e instanceof SettingsError)) throw e;
    process.stderr.write(`${e.message.split("\n").map((line) => `${command}: ${line}\n`).join("")}\n${usage}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(usage);
    return 0;
  }
  return parsed;
}

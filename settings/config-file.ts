// A config file of settings (YAML or JSON, a mapping of keys to values), for commands that take
// --config. Apart from read.ts so the sidecar, which has no config file, does not load the parser.
import { parse as parseYaml } from "yaml";
import { SettingsError } from "./read.ts";

export function parseConfigFile(path: string, text: string): { values: Record<string, unknown>; name: string } {
  const name = `--config ${path}`;
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new SettingsError(`${name}: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return { values: {}, name };
  if (typeof doc !== "object" || Array.isArray(doc)) throw new SettingsError(`${name}: must be a mapping of setting names to values`);
  return { values: doc as Record<string, unknown>, name };
}

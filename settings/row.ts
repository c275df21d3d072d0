// One setting, one row: its kind, its default, what it means, and every place it may come from.
// Commands list their rows; the engine (read.ts) reads them, help.ts and docs-table.ts write them.
import type { Kind } from "./kind.ts";

export interface Sources {
  /** `--cpu-request`: of the command that reads the row (and of `tailcar inject` when `inject`). */
  readonly flag?: string;
  /** One-letter alias of the flag: `f` for `-f`. */
  readonly short?: string;
  readonly env?: string;
  /** Key in the webhook's --config file. */
  readonly fileKey?: string;
  /** Pod annotation that overrides the value for one pod. */
  readonly annotation?: string;
  /** `tailcar inject` takes the flag too. */
  readonly inject?: boolean;
  /** How --help and the docs show the default when the value's text does not say it well. */
  readonly defaultText?: string;
  /** A valid value other than the default, for tests that give every setting (admit-vs-inject). */
  readonly example?: string;
}

export interface Row<K extends string = string, T = unknown, Optional extends boolean = boolean> extends Sources {
  readonly key: K;
  readonly kind: Kind<T>;
  /** Undefined only for an optional row: the setting is off or unset unless given. */
  readonly default: Optional extends true ? T | undefined : T;
  readonly optional: Optional;
  readonly help: string;
}

/**
 * A row of any value type, as the engine takes them (Kind's methods are bivariant in their
 * parameter, so a Row of Kind<number> is one). Values come back typed through ValuesOf.
 */
export type AnyRow = Row<string, unknown, boolean>;

/** The values a list of rows reads to, keyed by row, each typed by its kind (optional rows may be undefined). */
export type ValuesOf<R extends readonly AnyRow[]> = {
  -readonly [E in R[number] as E["key"]]: E extends Row<string, infer T, infer O> ? (O extends true ? T | undefined : T) : never;
};

export function setting<const K extends string, T>(key: K, kind: Kind<T>, dflt: T, help: string, sources: Sources = {}): Row<K, T, false> {
  return { key, kind, default: dflt, optional: false, help, ...sources };
}

export function optional<const K extends string, T>(key: K, kind: Kind<T>, help: string, sources: Sources = {}): Row<K, T, true> {
  return { key, kind, default: undefined, optional: true, help, ...sources };
}

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const snake = (key: string): string => key.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();

/** The usual sources of a command's setting: `--kebab-key`, PREFIX_SNAKE_KEY, and the key in its config file. */
export function named(key: string, envPrefix: string, more: Sources = {}): Sources {
  return { flag: `--${kebab(key)}`, env: `${envPrefix}${snake(key)}`, fileKey: key, ...more };
}

/** How --help and the docs show a row's default. */
export function defaultText(row: AnyRow): string {
  if (row.defaultText !== undefined) return row.defaultText;
  if (row.default === undefined) return "";
  const text = row.kind.format(row.default);
  return text;
}

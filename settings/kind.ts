// What a setting's value is: how its text is read, checked and written back. A kind has one rule,
// used wherever the value comes from (flag, environment, config file, pod annotation), so no value
// is valid in one place and invalid in another.

/** Why a text is not a value of its kind: a phrase that reads after the quoted text ("is not a duration …"). */
export class Invalid {
  readonly problem: string;
  constructor(problem: string) {
    this.problem = problem;
  }
}

export interface Kind<T> {
  /** For the reference tables: "duration", "Kubernetes quantity", "one of raw, json". */
  readonly name: string;
  /** The flag's argument in --help: DURATION, QUANTITY, raw|json. Empty for a boolean. */
  readonly metavar: string;
  /** Repeated flags (and list values in a file) add up instead of the last one winning. */
  readonly list?: boolean;
  /** A flag alone means true. */
  readonly boolean?: boolean;
  /** Whether the raw text is secret-bearing (URLs): messages redact it. */
  readonly url?: boolean;
  /** The text as a message may quote it, when parts of it may be secrets a user put there by mistake. */
  readonly shown?: (text: string) => string;
  parse(text: string): T | Invalid;
  /** The text that parses back to `value` (defaults in --help, environment the injector writes). */
  format(value: T): string;
}

// The kinds of setting, one rule each. Commands may define more (the webhook's file entries and
// image references) with the same Kind interface.
import { formatDuration, parseDuration } from "./duration.ts";
import { isDns1123Label, MAX_DNS1123_LABEL } from "./dns1123.ts";
import { endpointProblem, ENDPOINT_SCHEMES } from "./endpoint.ts";
import { Invalid, type Kind } from "./kind.ts";
import { multilineProblem } from "./multiline-spec.ts";
import { quantityProblem } from "./quantity.ts";
import { formatSize, parseSize } from "./size.ts";

/** A kind that checks text and keeps it as it is. */
export function checkedText(name: string, metavar: string, problem: (text: string) => string | undefined): Kind<string> {
  return {
    name,
    metavar,
    parse: (text) => {
      const p = problem(text);
      return p === undefined ? text : new Invalid(p);
    },
    format: (v) => v,
  };
}

export const text: Kind<string> = checkedText("text", "TEXT", () => undefined);

/** Milliseconds. */
export const duration: Kind<number> = {
  name: "duration (`500ms`, `10s`, `2m`)",
  metavar: "DURATION",
  parse: (t) => parseDuration(t) ?? new Invalid("is not a duration (examples: 500ms, 1s, 2m)"),
  format: formatDuration,
};

/** Bytes, at least one. */
export const size: Kind<number> = {
  name: "size (`65536`, `64Ki`, `1Mi`)",
  metavar: "SIZE",
  parse: (t) => {
    const n = parseSize(t);
    if (n === undefined) return new Invalid("is not a size (examples: 65536, 64Ki, 1Mi)");
    return n < 1 ? new Invalid("is less than 1 byte") : n;
  },
  format: formatSize,
};

/** Bytes from 1 to `max`: a bound for a size a pod chooses and the sidecar holds in memory. */
export function sizeUpTo(max: number): Kind<number> {
  return {
    ...size,
    name: `size (\`65536\`, \`64Ki\`, \`1Mi\`), at most \`${formatSize(max)}\``,
    parse: (t) => {
      const n = size.parse(t);
      return typeof n === "number" && n > max ? new Invalid(`is more than ${formatSize(max)}`) : n;
    },
  };
}

/** A Kubernetes resource quantity, kept as text (it goes into the pod as written). */
export const quantity: Kind<string> = checkedText("Kubernetes quantity (`10m`, `64Mi`)", "QUANTITY", quantityProblem);

export const port: Kind<number> = {
  name: "port (0-65535)",
  metavar: "PORT",
  parse: (t) => {
    const n = Number(t);
    return /^\d+$/.test(t) && n <= 65535 ? n : new Invalid("is not a port number (0-65535)");
  },
  format: String,
};

/** A whole number from `min` to `max`. */
export function count(min: number, max: number): Kind<number> {
  return {
    name: `whole number (${min}-${max})`,
    metavar: "N",
    parse: (t) => {
      const n = Number(t);
      return /^\d+$/.test(t) && n >= min && n <= max ? n : new Invalid(`is not a whole number from ${min} to ${max}`);
    },
    format: String,
  };
}

export const bool: Kind<boolean> = {
  name: "boolean",
  metavar: "",
  boolean: true,
  parse: (t) => (["true", "1"].includes(t) ? true : ["false", "0"].includes(t) ? false : new Invalid("is not true or false")),
  format: String,
};

export function oneOf<const T extends string>(values: readonly T[]): Kind<T> {
  return {
    name: `one of ${values.map((v) => `\`${v}\``).join(", ")}`,
    metavar: values.join("|"),
    parse: (t) => ((values as readonly string[]).includes(t) ? (t as T) : new Invalid(`is not one of ${values.join(", ")}`)),
    format: (v) => v,
  };
}

/** A URL with one of `schemes`, whose credentials (if any) the sinks can decode. */
export function url(schemes: readonly string[] = ENDPOINT_SCHEMES): Kind<string> {
  return { ...checkedText(`URL (${schemes.map((s) => s.slice(0, -1)).join(", ")})`, "URL", (t) => endpointProblem(t, schemes)), url: true };
}

/** Items separated by commas or newlines; repeated flags add up. */
export function list(of: Kind<string> = text): Kind<readonly string[]> {
  return {
    name: `list of ${of.name}, comma-separated`,
    metavar: of.metavar,
    list: true,
    parse: (t) => {
      const items = t.split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== "");
      for (const item of items) {
        const v = of.parse(item);
        if (v instanceof Invalid) return new Invalid(`has ${JSON.stringify(item)}, which ${v.problem}`);
      }
      return items;
    },
    format: (v) => v.join(","),
  };
}

export const dns1123Label: Kind<string> = checkedText("DNS-1123 label", "NAME", (t) =>
  isDns1123Label(t) ? undefined : `is not a DNS-1123 label (a-z, 0-9, "-", at most ${MAX_DNS1123_LABEL})`);

export const multiline: Kind<string> = checkedText("`java`, `python` or a regular expression", "java|python|REGEX", multilineProblem);

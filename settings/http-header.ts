// Extra request headers for the forwarding sinks, and the tenant header: the one check of a header's
// name and value, made by the sidecar at start (and on every reload of the Secret's header.NAME
// files) and by the webhook on its cluster default and on each pod's annotation.
import { Invalid, type Kind } from "./kind.ts";

/** RFC 9110 token characters: what a field name may be made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Visible ASCII, space and tab, not at either end: a value no HTTP library reads differently. */
const VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e\t]*[\x21-\x7e])?)?$/;
export const MAX_HEADER_VALUE = 8192;

/**
 * Headers the sink writes itself (framing, body encoding, the request's target): one given by a user
 * would corrupt the request. Authorization is refused in plain text (it is a credential: put it in
 * the Secret as header.Authorization); X-Scope-OrgID has a setting of its own (tenant).
 */
const RESERVED = new Set(["host", "content-length", "content-type", "content-encoding", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer", "proxy-connection", "expect"]);
const OWN_SETTING: Readonly<Record<string, string>> = { authorization: "a credential: give it from the Secret (a header.Authorization key)", "x-scope-orgid": "set by the tenant setting" };

/** Why `name` cannot be an extra header's name (a phrase that reads after the quoted name), or undefined. */
export function headerNameProblem(name: string, fromSecret = false): string | undefined {
  if (!TOKEN.test(name)) return "is not an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)";
  const lower = name.toLowerCase();
  if (RESERVED.has(lower)) return "is a header the sink writes itself";
  if (!fromSecret && OWN_SETTING[lower] !== undefined) return `is ${OWN_SETTING[lower]}`;
  return undefined;
}

/** Why `value` cannot be a header's value, in words that never quote it (it may be a secret); undefined if it can. */
export function headerValueProblem(value: string): string | undefined {
  if (value.length > MAX_HEADER_VALUE) return `is longer than ${MAX_HEADER_VALUE} characters`;
  if (!VALUE.test(value)) return "holds a character other than visible ASCII, space or tab (or starts or ends with a space)";
  return undefined;
}

/** Name and value, in the order given. */
export type Header = readonly [name: string, value: string];

/**
 * `Name=value` items, separated by commas or newlines (a value with a comma: from the Secret). One
 * text holds them all (not a list kind: a repeated flag replaces, as for every other setting).
 */
export const headerList: Kind<readonly Header[]> = {
  name: "`Name=value` items, comma-separated",
  metavar: "NAME=VALUE,...",
  parse: (t) => {
    const out: Header[] = [];
    for (const item of t.split(/[,\n]/).map((s) => s.trim()).filter((s) => s !== "")) {
      const eq = item.indexOf("=");
      if (eq < 0) return new Invalid("has an item that is not Name=value");
      const name = item.slice(0, eq).trim();
      const value = item.slice(eq + 1).trim();
      const problem = headerNameProblem(name) ?? headerValueProblem(value);
      if (problem !== undefined) return new Invalid(`has the header ${JSON.stringify(name)}, which ${problem}`);
      if (out.some(([k]) => k.toLowerCase() === name.toLowerCase())) return new Invalid(`names the header ${JSON.stringify(name)} twice`);
      out.push([name, value]);
    }
    return out;
  },
  format: (v) => v.map(([k, val]) => `${k}=${val}`).join(","),
  // A refused value may be a token put here by mistake (Authorization=Bearer …): names only.
  shown: (t) => t.split(/([,\n])/).map((item) => (item.includes("=") ? `${item.slice(0, item.indexOf("="))}=***` : item)).join(""),
};

/**
 * Loki's tenant ID rule (docs "Multi-tenancy"): at most 150 bytes of letters, digits and
 * !-_.*'(), and not "." or "..". Loki answers other IDs 401, which would read as wrong credentials.
 */
export const tenant: Kind<string> = {
  name: "tenant ID (letters, digits and `!-_.*'()`, at most 150)",
  metavar: "TENANT",
  parse: (t) => (/^[A-Za-z0-9!\-_.*'()]{1,150}$/.test(t) && t !== "." && t !== ".." ? t : new Invalid("is not a tenant ID (letters, digits and !-_.*'(), at most 150, not . or ..)")),
  format: (v) => v,
};

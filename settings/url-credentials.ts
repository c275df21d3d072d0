// Credentials written into a URL (`https://user:password@host`): fetch refuses such URLs, so they
// are taken out and sent as a basic-auth header; and every URL that may be printed (logs, errors,
// metric labels, the webhook's start-up line and warnings) goes through redactCredentials first.
// Both halves import this file: the sidecar and the injector hide secrets the same way.

export const REDACTED = "***";

/** Characters that end the user information: a URL inside JSON or prose is read without its surroundings. */
function endsUserinfo(c: number): boolean {
  // space, tab, CR, LF and other ASCII whitespace; / ? # " ' < > \
  return c <= 0x20 || c === 0x2f || c === 0x3f || c === 0x23 || c === 0x22 || c === 0x27 || c === 0x3c || c === 0x3e || c === 0x5c || c === 0x85 || c === 0xa0 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x3000 || c === 0xfeff;
}
function isLetter(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}
function isSchemeChar(c: number): boolean {
  return isLetter(c) || (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2e || c === 0x2d;
}

/**
 * `text` with the password of every URL in it replaced by ***; the user name is kept (it helps
 * to tell which account is refused), unless it stands alone: `https://token@host` carries its
 * secret in the user name. Works on text that is not a valid URL, since error messages echo those.
 *
 * A scan, not a regular expression: the expression this replaced backtracked over every run of
 * scheme characters, 11 s for a 100 KB annotation value and quadratic beyond, on the webhook's one
 * thread. Here each character is looked at a bounded number of times: a scheme is read back from
 * a `://` no further than the previous one, and the user information forward to its first `/`.
 * Over-matching could only hide more, never show a secret. `cut` says the text is the start of a
 * longer one: a user information still open at its end is hidden whole, since its `@` may follow.
 */
export function redactCredentials(text: string, cut = false): string {
  const out: string[] = [];
  let copied = 0;
  for (let sep = text.indexOf("://"); sep >= 0; sep = text.indexOf("://", sep + 3)) {
    let start = sep;
    while (start > copied && isSchemeChar(text.charCodeAt(start - 1))) start--;
    while (start < sep && !isLetter(text.charCodeAt(start))) start++;
    if (start === sep) continue;
    const begin = sep + 3;
    let at = -1;
    let i = begin;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (endsUserinfo(c)) break;
      if (c === 0x40) at = i;
    }
    if (cut && i === text.length) {
      out.push(text.slice(copied, begin), REDACTED);
      return out.join("");
    }
    if (at < 0) continue;
    const userinfo = text.slice(begin, at);
    const colon = userinfo.indexOf(":");
    out.push(text.slice(copied, begin), colon >= 0 ? `${userinfo.slice(0, colon)}:${REDACTED}@` : `${REDACTED}@`);
    copied = at + 1;
    sep = at - 2; // the next search starts after the `@`
  }
  if (copied === 0) return text;
  out.push(text.slice(copied));
  return out.join("");
}

export interface RequestTarget {
  /** Where requests go: the URL without its credentials (fetch refuses them in the URL). */
  readonly url: string;
  /** The URL as messages show it: credentials redacted. */
  readonly shown: string;
  /** `Authorization: Basic …` when the URL carried credentials; empty otherwise. */
  readonly headers: Readonly<Record<string, string>>;
}

/** Thrown for user information that cannot be decoded (a stray `%`); the message holds no secret. */
export class CredentialsError extends Error {
  override name = "CredentialsError";
}

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new CredentialsError(`the ${what} in the endpoint URL is not valid percent-encoding (write % as %25)`);
  }
}

/**
 * Splits `user:password@` off `url` into a basic-auth header (RFC 7617: user and password
 * percent-decoded, joined by ":", UTF-8, base64), as curl and Go's HTTP client do with such URLs.
 */
export function requestTarget(url: string): RequestTarget {
  const parsed = new URL(url);
  const shown = redactCredentials(parsed.toString());
  if (parsed.username === "" && parsed.password === "") return { url: parsed.toString(), shown, headers: {} };
  const user = decode(parsed.username, "user name");
  const password = decode(parsed.password, "password");
  parsed.username = "";
  parsed.password = "";
  const token = Buffer.from(`${user}:${password}`, "utf8").toString("base64");
  return { url: parsed.toString(), shown, headers: { Authorization: `Basic ${token}` } };
}

/**
 * A value meant as a URL, as a message may quote it: redactCredentials, and also the user
 * information of a URL written without its scheme ("user:password@host", which a URL parser reads
 * as the scheme "user:"), everything up to its last "@".
 */
export function redactUrlText(text: string): string {
  const redacted = redactCredentials(text);
  const at = redacted.lastIndexOf("@");
  if (at < 0 || redacted.includes(`${REDACTED}@`) || redacted.slice(0, at).includes("://")) return redacted;
  return `${REDACTED}${redacted.slice(at)}`;
}

// Credentials written into a URL (`https://user:password@host`): fetch refuses such URLs, so they
// are taken out and sent as a basic-auth header; and every URL that may be printed (logs, errors,
// metric labels, the webhook's start-up line and warnings) goes through redactCredentials first.
// The webhook imports this file too: the sidecar and the injector hide secrets the same way.

/**
 * A scheme's `//`, then the user information up to the last `@` before the host. Quotes, angle
 * brackets and backslashes end it, so a URL inside JSON or prose is matched without its
 * surroundings; over-matching could only hide more, never show a secret.
 */
const USERINFO = /([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^\s/?#"'<>\\]*)@/g;

export const REDACTED = "***";

/**
 * `text` with the password of every URL in it replaced by ***; the user name is kept (it helps
 * to tell which account is refused), unless it stands alone: `https://token@host` carries its
 * secret in the user name. Works on text that is not a valid URL, since error messages echo those.
 */
export function redactCredentials(text: string): string {
  return text.replace(USERINFO, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(":");
    return `${scheme}${colon >= 0 ? `${userinfo.slice(0, colon)}:${REDACTED}` : REDACTED}@`;
  });
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

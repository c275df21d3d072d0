// A backend URL the sidecar can use: the one check, made by the sidecar at start, by the webhook on
// its cluster default at start, and on the tailcar.io/forward-endpoint annotation of every pod.
import { CredentialsError, redactCredentials, requestTarget } from "./url-credentials.ts";

export const ENDPOINT_SCHEMES = ["http:", "https:"] as const;

/**
 * Why `endpoint` cannot be a backend URL, in words that never hold its password (a phrase that
 * reads after the quoted value); undefined if it can. Credentials (user:password@) are fine: the
 * sinks send them as basic auth.
 */
export function endpointProblem(endpoint: string, schemes: readonly string[] = ENDPOINT_SCHEMES): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "is not a URL";
  }
  // Not the URL itself: "user:password@host" parses as the scheme "user:" with a path.
  if (!schemes.includes(url.protocol)) {
    return `must be an ${schemes.map((s) => s.slice(0, -1)).join(" or ")} URL, not one with the scheme "${redactCredentials(url.protocol)}"`;
  }
  try {
    requestTarget(endpoint);
  } catch (e) {
    if (e instanceof CredentialsError) return `cannot be used: ${e.message}`;
    throw e;
  }
  return undefined;
}

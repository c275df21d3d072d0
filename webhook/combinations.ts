// Rules between settings (one value is fine, two together are not), the same for the webhook's
// defaults, checked at start-up, and for a pod's settings after its annotations, checked per pod.
import { parseQuantity } from "../settings/quantity.ts";
import type { PodValues } from "./injection-rows.ts";

export interface Conflict {
  /** The settings involved, the one to blame first. */
  readonly keys: readonly (keyof PodValues)[];
  /** What is wrong, naming settings with `name` (a flag at start-up, an annotation for a pod). */
  readonly problem: (name: (key: keyof PodValues) => string) => string;
  /** What a pod gets instead, and the words for it. */
  readonly fix: (values: PodValues) => void;
  readonly fixed: string;
}

export function conflicts(v: PodValues): Conflict[] {
  const found: Conflict[] = [];
  if (v.mode === "forward" && (v.forwardSink === undefined || v.forwardEndpoint === undefined)) {
    found.push({
      keys: ["mode", "forwardSink", "forwardEndpoint"],
      problem: (name) => `mode forward needs a backend (${name("forwardSink")} and ${name("forwardEndpoint")})`,
      fix: (c) => void (c.mode = "stream"),
      fixed: "streaming to stdout instead",
    });
  }
  if (v.mode === "forward" && v.forwardEndpoint !== undefined) found.push(...forwardConflicts(v, v.forwardEndpoint));
  if (v.multiline !== undefined && v.format !== "json") {
    found.push({
      keys: ["multiline", "format"],
      problem: (name) => `multiline needs ${name("format")}: json`,
      fix: (c) => void delete c.multiline,
      fixed: "ignored",
    });
  }
  if (v.prefixFileName === true && (v.format !== "raw" || v.mode === "forward")) {
    found.push({
      keys: ["prefixFileName", "format", "mode"],
      problem: (name) => `prefix-file-name needs ${name("format")}: raw and ${name("mode")}: stream (json records and backends carry the path in a field)`,
      fix: (c) => void delete c.prefixFileName,
      fixed: "ignored",
    });
  }
  for (const [resource, requestKey, limitKey] of [["cpu", "cpuRequest", "cpuLimit"], ["memory", "memoryRequest", "memoryLimit"]] as const) {
    const request = v[requestKey];
    const limit = v[limitKey];
    if (limit === undefined || parseQuantity(request)! <= parseQuantity(limit)!) continue;
    found.push({
      keys: [requestKey, limitKey],
      problem: () => `the ${resource} request ${request} is more than the limit ${limit}`,
      fix: (c) => void (c[requestKey] = limit),
      fixed: "the request is set to the limit",
    });
  }
  return found;
}

/** The forwarding credentials and TLS settings against the endpoint they are for. */
function forwardConflicts(v: PodValues, endpoint: string): Conflict[] {
  const found: Conflict[] = [];
  const url = new URL(endpoint);
  if (v.forwardAuthSecret !== undefined && (url.username !== "" || url.password !== "")) {
    found.push({
      keys: ["forwardEndpoint", "forwardAuthSecret"],
      problem: (name) => `credentials in ${name("forwardEndpoint")} (user:password@) and ${name("forwardAuthSecret")}: give them in one place`,
      fix: (c) => {
        const bare = new URL(endpoint);
        bare.username = "";
        bare.password = "";
        c.forwardEndpoint = bare.toString();
      },
      fixed: "the Secret's are sent, and the endpoint's are left out of the pod",
    });
  }
  if (url.protocol !== "https:") {
    for (const key of ["forwardCa", "forwardClientCertSecret"] as const) {
      if (v[key] === undefined) continue;
      found.push({
        keys: [key, "forwardEndpoint"],
        problem: (name) => `${name(key)} needs an https:// ${name("forwardEndpoint")}`,
        fix: (c) => void delete c[key],
        fixed: "ignored",
      });
    }
  }
  return found;
}

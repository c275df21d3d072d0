// The tailcar.io/files annotation: comma- or newline-separated entries `[name=]/absolute/path`.
// Bad entries are dropped with a warning each; the rest are still injected.
import { posix } from "node:path";
import { redactCredentials } from "../sidecar/url-credentials.ts";
import { isDns1123Label } from "./container-name.ts";

export const FILES_ANNOTATION = "tailcar.io/files";
/** Where the checkpoint emptyDir is mounted in each sidecar; log files cannot live below it. */
export const CHECKPOINT_MOUNT_PATH = "/var/run/tailcar";

export interface FileEntry {
  /** Explicit container name, already checked to be a DNS-1123 label. */
  readonly name?: string;
  readonly path: string;
}

/** The value is echoed with any URL's password redacted: warnings reach the webhook's log and kubectl. */
export function invalidValue(key: string, value: string, reason: string): string {
  return `invalid value ${JSON.stringify(redactCredentials(value))} for annotation ${JSON.stringify(key)}: ${reason}`;
}

function pathProblem(path: string): string | undefined {
  if (!path.startsWith("/")) return "is not an absolute path";
  if (path.endsWith("/")) return "names a directory, not a file";
  if (/(?:^|\/)\.\.?(?:\/|$)/.test(path)) return 'contains "." or ".." segments';
  if (/[*?[\]]/.test(path)) return "contains a glob character; name each file";
  if (/\s/.test(path)) return "contains whitespace";
  if (posix.dirname(path) === "/") return "is directly in /, whose directory cannot be shared with a sidecar";
  if (path.startsWith(`${CHECKPOINT_MOUNT_PATH}/`)) return `is below ${CHECKPOINT_MOUNT_PATH}, where the sidecars keep checkpoints`;
  return undefined;
}

export function parseFileEntries(value: string): { entries: FileEntry[]; warnings: string[] } {
  const entries: FileEntry[] = [];
  const warnings: string[] = [];
  const bad = (entry: string, reason: string) =>
    warnings.push(invalidValue(FILES_ANNOTATION, entry, `${reason}; entry ignored`));
  const seen = new Set<string>();
  for (const raw of value.split(/[,\n]/)) {
    const entry = raw.trim();
    if (entry === "") continue;
    const eq = entry.indexOf("=");
    const slash = entry.indexOf("/");
    const hasName = eq >= 0 && (slash < 0 || eq < slash);
    const path = (hasName ? entry.slice(eq + 1) : entry).trim();
    let name = hasName ? entry.slice(0, eq).trim() : undefined;
    const problem = pathProblem(path);
    if (problem) {
      bad(entry, `the path ${problem}`);
      continue;
    }
    if (seen.has(path)) {
      bad(entry, "the file is listed twice");
      continue;
    }
    seen.add(path);
    if (name !== undefined && !isDns1123Label(name)) {
      warnings.push(invalidValue(FILES_ANNOTATION, entry,
        `${JSON.stringify(name)} is not a DNS-1123 label (a-z, 0-9, "-", at most 63); named after the file instead`));
      name = undefined;
    }
    entries.push(name === undefined ? { path } : { name, path });
  }
  return { entries, warnings };
}

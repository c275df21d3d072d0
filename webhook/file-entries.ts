// The tailcar.io/files annotation: comma- or newline-separated entries `[name=]/absolute/path`.
// Bad entries are dropped with a warning each; the rest are still injected.
import { posix } from "node:path";
import { isDns1123Label } from "./container-name.ts";

export const FILES_ANNOTATION = "tailcar.io/files";
/** Where the checkpoint emptyDir is mounted in each sidecar; log files cannot live below it. */
export const CHECKPOINT_MOUNT_PATH = "/var/run/tailcar";

export interface FileEntry {
  /** Explicit container name, already checked to be a DNS-1123 label. */
  readonly name?: string;
  readonly path: string;
}

/**
 * Files (so sidecars) a pod may ask for; entries past it are ignored with one warning. Each file is
 * a sidecar with its own memory request, and the injector's work grows with files × the pod's mounts.
 */
export const MAX_FILES = 64;
/** Linux's PATH_MAX: a longer path names no file a container can open. */
export const MAX_PATH_LENGTH = 4096;
/** How much of a value a warning quotes; the rest is counted, so a 3 MiB value makes a short warning. */
export const MAX_QUOTED_LENGTH = 100;

/** JSON.stringify(text), shortened past MAX_QUOTED_LENGTH characters with the full length said. */
export function quoted(text: string): string {
  return text.length <= MAX_QUOTED_LENGTH ? JSON.stringify(text) : `${JSON.stringify(`${text.slice(0, MAX_QUOTED_LENGTH)}…`)} (${text.length} characters)`;
}

export function invalidValue(key: string, value: string, reason: string): string {
  return `invalid value ${quoted(value)} for annotation ${JSON.stringify(key)}: ${reason}`;
}

function pathProblem(path: string): string | undefined {
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
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
  let looked = 0;
  for (const raw of value.split(/[,\n]/)) {
    const entry = raw.trim();
    if (entry === "") continue;
    // Only the first MAX_FILES entries, valid or not, are read: the rest are only counted.
    if (++looked > MAX_FILES) continue;
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
  if (looked > MAX_FILES) warnings.push(`annotation ${JSON.stringify(FILES_ANNOTATION)}: ${looked - MAX_FILES} more entries ignored; a pod may list at most ${MAX_FILES} files`);
  return { entries, warnings };
}

// The tailcar.io/files annotation: comma- or newline-separated entries `[name=]/absolute/path`, or
// `[name=]/glob/*.log[!exclude…]` (settings/file-glob.ts): one sidecar following every match.
// Bad entries are dropped with a warning each; the rest are still injected.
import { posix } from "node:path";
import { redactCredentials, redactUrlText } from "../settings/url-credentials.ts";
import { isDns1123Label } from "../settings/dns1123.ts";
import { globProblem, isGlob, parseGlob } from "../settings/file-glob.ts";
import type { Kind } from "../settings/kind.ts";
import { MAX_SIDECARS_PER_POD_CEILING } from "./injection-rows.ts";

export const FILES_ANNOTATION = "tailcar.io/files";
/** Where the checkpoint emptyDir is mounted in each sidecar; log files cannot live below it. */
export const CHECKPOINT_MOUNT_PATH = "/var/run/tailcar";

export interface FileEntry {
  /** Explicit container name, already checked to be a DNS-1123 label. */
  readonly name?: string;
  readonly path: string;
}

/**
 * Entries of tailcar.io/files read at all; the rest are ignored with one warning. It bounds the
 * injector's work (files × the pod's mounts) whatever --max-sidecars-per-pod says, and leaves room
 * above that setting's ceiling for entries refused on the way (a secret volume, a bad path), which
 * use no sidecar.
 */
export const MAX_FILES = 2 * MAX_SIDECARS_PER_POD_CEILING;
/** Linux's PATH_MAX: a longer path names no file a container can open. */
export const MAX_PATH_LENGTH = 4096;
/** How much of a value a warning quotes; the rest is counted, so a 3 MiB value makes a short warning. */
export const MAX_QUOTED_LENGTH = 100;

/** JSON.stringify(text), shortened past MAX_QUOTED_LENGTH characters with the full length (of the value it was cut from) said. */
export function quoted(text: string, length = text.length): string {
  return text.length <= MAX_QUOTED_LENGTH ? JSON.stringify(text) : `${JSON.stringify(`${text.slice(0, MAX_QUOTED_LENGTH)}…`)} (${length} characters)`;
}

/** How much of a value is searched for URL credentials before it is quoted (cut to far less). */
const REDACTED_PREFIX = 1024;

/**
 * The value is echoed with any URL's password redacted: warnings reach the webhook's log and
 * kubectl. Only its start is searched: it is cut to MAX_QUOTED_LENGTH anyway, and a scan of a
 * 3 MiB value full of URLs took 0.8 s of the webhook's one thread.
 */
export function invalidValue(key: string, value: string, reason: string, isUrl = false): string {
  const redact = (text: string): string => (isUrl ? redactUrlText(text) : redactCredentials(text));
  const shown = value.length > REDACTED_PREFIX ? redactCredentials(value.slice(0, REDACTED_PREFIX), true) : redact(value);
  return `invalid value ${quoted(shown, value.length)} for annotation ${JSON.stringify(key)}: ${reason}`;
}

function pathProblem(path: string): string | undefined {
  if (path.length > MAX_PATH_LENGTH) return `is longer than ${MAX_PATH_LENGTH} characters`;
  if (isGlob(path)) return globEntryProblem(path);
  if (!path.startsWith("/")) return "is not an absolute path";
  if (path.endsWith("/")) return "names a directory, not a file";
  if (/(?:^|\/)\.\.?(?:\/|$)/.test(path)) return 'contains "." or ".." segments';
  if (/\]/.test(path)) return "contains a glob character; name each file";
  if (/\s/.test(path)) return "contains whitespace";
  if (posix.dirname(path) === "/") return "is directly in /, whose directory cannot be shared with a sidecar";
  if (path.startsWith(`${CHECKPOINT_MOUNT_PATH}/`)) return `is below ${CHECKPOINT_MOUNT_PATH}, where the sidecars keep checkpoints`;
  return undefined;
}

/** A glob entry (settings/file-glob.ts): its syntax, and a root the sidecar can share, as for a file's directory. */
function globEntryProblem(entry: string): string | undefined {
  if (/\s/.test(entry)) return "contains whitespace";
  const problem = globProblem(entry);
  if (problem !== undefined) return `is a glob, but ${problem}`;
  const { root } = parseGlob(entry);
  if (root === "/") return "is a glob over /, which cannot be shared with a sidecar (start it in a directory: /var/log/app/*.log)";
  if (root === CHECKPOINT_MOUNT_PATH || root.startsWith(`${CHECKPOINT_MOUNT_PATH}/`) || CHECKPOINT_MOUNT_PATH.startsWith(`${root}/`)) return `is a glob over ${root}, which holds ${CHECKPOINT_MOUNT_PATH}, where the sidecars keep checkpoints`;
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

/**
 * The kind of the tailcar.io/files setting: never invalid as a whole, since each bad entry is
 * dropped with a warning of its own and the rest are still injected.
 */
export const fileEntries = {
  name: "file entries, comma- or newline-separated `[name=]/absolute/path` or `[name=]/absolute/glob/*.log[!exclude…]`",
  metavar: "FILES",
  parse: parseFileEntries,
  format: (v: { entries: FileEntry[] }) => v.entries.map((e) => (e.name === undefined ? e.path : `${e.name}=${e.path}`)).join(","),
} satisfies Kind<{ entries: FileEntry[]; warnings: string[] }>;

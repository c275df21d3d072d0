// `tailcar inject -f FILE|-`: offline injection, like `istioctl kube-inject`. YAML in (many
// documents, many files), YAML out on stdout, warnings on stderr.
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import jsonpatch from "fast-json-patch";
import { isCollection, parse, stringify, type Document } from "yaml";
import { bool, count, list, text } from "../settings/kinds.ts";
import { renderHelp } from "../settings/help.ts";
import { readCommandLine } from "../settings/command-line.ts";
import { readSettings, SettingsError } from "../settings/read.ts";
import { setting, type Row } from "../settings/row.ts";
import { deepFreeze } from "./deep-freeze.ts";
import { INJECTION_ROWS } from "./injection-rows.ts";
import { conflicts } from "./combinations.ts";
import { DEFAULT_INJECT_OPTIONS, type InjectOptions } from "./options.ts";
import { packageVersion } from "./package-version.ts";
import { injectManifest } from "./workloads.ts";
import { Utf8Text } from "./utf8-text.ts";
import { applyPatchToDocument } from "./yaml-patch.ts";
import { InputError, YamlDocumentStream, type StreamedDocument } from "./yaml-stream.ts";

/**
 * The largest document read (a Kubernetes object is at most 1.5 MiB in etcd; a List of many can be
 * more). A document takes about 250 MiB of memory per MiB while it is injected (docs/decisions.md).
 */
export const DEFAULT_MAX_DOCUMENT_MIB = 4;
const MIB = 1024 * 1024;

/** `tailcar inject`'s rows: its own, and every injection setting the webhook takes, by the same flag. */
export const INJECT_ROWS = [
  setting("filename", list(text), [] as readonly string[], "manifest file, or - for stdin; repeatable", { flag: "--filename", short: "f" }),
  // Their environment variables and config keys are the webhook's: inject reads only its flags.
  ...INJECTION_ROWS,
  setting("maxDocumentSize", count(1, 9999), DEFAULT_MAX_DOCUMENT_MIB, "refuse a document larger than N MiB", { flag: "--max-document-size" }),
  setting("help", bool, false, "show this help", { flag: "--help", short: "h" }),
] as const satisfies readonly Row[];

const flagOf = (key: string): string => INJECT_ROWS.find((r) => r.key === key)!.flag!;

const HELP = `Usage: tailcar inject -f FILE|- [-f FILE …] [options]

Reads Kubernetes manifests (multi-document YAML), adds one streaming sidecar per file named in each
pod's tailcar.io/files annotation (Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
CronJobs, Lists), and writes the result to stdout. Other kinds pass through unchanged. Comments,
key order and quoting are kept; JSON input, and a document with a YAML alias on a changed path,
come out as block YAML written anew.
Warnings go to stderr, prefixed with the object they are about.

Options (the injection settings are the webhook's, by the same flags and rules; pods' tailcar.io/
annotations override the per-pod ones as they do in the cluster):
${renderHelp(INJECT_ROWS)}

Documents are read and written one at a time, so memory follows the largest document, not the
input. Input that is not UTF-8 YAML text (binary), a document that is not a Kubernetes object (a
string or number at the top) or one larger than the limit is an error (exit 1) naming the document;
the documents before it have been written. An empty input gives no output and a warning.

Example: kubectl get deploy web -o yaml | tailcar inject -f - | kubectl apply -f -
`;

export interface InjectArgs {
  readonly files: readonly string[];
  readonly options: InjectOptions;
  readonly maxDocumentMiB: number;
  readonly help: boolean;
}

/** Throws SettingsError naming the flag of a bad value, as the webhook does at start-up. */
export function parseInjectArgs(argv: readonly string[]): InjectArgs {
  const { filename, maxDocumentSize, help, sidecarMode, ...injection } = readSettings(INJECT_ROWS, { argv, command: "tailcar inject" });
  if (filename.length === 0 && !help) throw new SettingsError("no input: give -f FILE, or -f - to read stdin");
  // The same rules between settings as the webhook's defaults at its start-up.
  for (const conflict of conflicts(injection)) throw new SettingsError(`${conflict.keys.map(flagOf).join(", ")}: ${conflict.problem(flagOf)}`);
  // No API server to ask the version of: auto means native (Kubernetes 1.29 and later).
  const options: InjectOptions = { ...injection, sidecarMode: sidecarMode === "classic" ? "classic" : "native", excludedNamespaces: DEFAULT_INJECT_OPTIONS.excludedNamespaces };
  return { files: filename, options: deepFreeze(options), maxDocumentMiB: maxDocumentSize, help };
}

// Sidecars are shared between pods with the same layout (memo.ts): written out in full each time,
// not as YAML anchors and aliases.
const fromObject = (object: unknown): string => stringify(object, { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false });

/**
 * The input document with only injection's changes applied (to `doc` itself, which is not used
 * again), so its comments, key order and quoting survive; undefined when it is JSON, cannot be
 * edited in place (an alias, or a key that is not a string, on a changed path) or does not read
 * back as exactly `injected`: then it is written from the object.
 */
function asWritten(doc: Document, original: unknown, injected: unknown): string | undefined {
  // JSON (kubectl get -o json) is YAML in flow style: edited in place it would stay one long line.
  // It has no comments to keep, so it is written as block YAML from the object.
  if (isCollection(doc.contents) && doc.contents.flow === true) return undefined;
  try {
    applyPatchToDocument(doc, jsonpatch.compare(original as object, injected as object));
    // The separators between documents are written by the caller.
    if (doc.directives) doc.directives.docStart = null;
    const text = doc.toString({ lineWidth: 0 });
    return isDeepStrictEqual(parse(text, { version: "1.1" }), injected) ? text : undefined;
  } catch {
    return undefined;
  }
}

/** What a document holds at the top when it is not a map, for the error that refuses it. */
function notAnObject(value: unknown): string {
  if (Array.isArray(value)) return "a YAML sequence";
  if (typeof value === "string") {
    const shown = JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    return `a YAML string (${shown})`;
  }
  return `a YAML ${typeof value} (${String(value)})`;
}

/**
 * One document injected: its text, or undefined for an empty document (only comments, or `---`
 * alone), which is left out. Throws InputError, naming the document, when it is not a Kubernetes
 * object (a string or number at the top is what binary or non-YAML input reads as).
 */
export function injectDocument(streamed: StreamedDocument, options: InjectOptions, where: string, warn: (line: string) => void): string | undefined {
  let object: unknown;
  try {
    object = streamed.doc.toJS();
  } catch (e) {
    throw new InputError(`document ${streamed.index}: ${(e as Error).message}`);
  }
  if (object === null || object === undefined) return undefined;
  if (typeof object !== "object" || Array.isArray(object)) {
    throw new InputError(`document ${streamed.index}: ${notAnObject(object)} at the top, not a Kubernetes object (a map with apiVersion and kind)`);
  }
  const result = injectManifest(object, options, packageVersion(), `${where} document ${streamed.index}`);
  for (const w of result.warnings) warn(w);
  return asWritten(streamed.doc, object, result.object) ?? fromObject(result.object);
}

export interface InjectIo {
  /** One line of warning, without the newline. */
  readonly warn: (line: string) => void;
  /** Output text, in order; the next write waits for the promise. */
  readonly write: (text: string) => void | Promise<void>;
  readonly maxDocumentChars?: number;
}

function readError(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case "ENOENT": return "no such file";
    case "EISDIR": return "is a directory (give the manifests in it, e.g. -f DIR/*.yaml)";
    case "EACCES": return "permission denied";
    default: return (e as Error).message;
  }
}

/**
 * Injects every document of every input, in order, writing each piece of output as soon as the
 * input read so far completes it: memory is bounded by the largest document, not the input.
 * Throws with the input's name and the document number on bad input, after writing the documents
 * before it.
 */
export async function injectInputs(files: readonly string[], options: InjectOptions, io: InjectIo): Promise<void> {
  let first = true;
  for (const file of files) {
    const name = file === "-" ? "<stdin>" : file;
    const stream = new YamlDocumentStream(io.maxDocumentChars ?? DEFAULT_MAX_DOCUMENT_MIB * MIB);
    const bytes = new Utf8Text();
    let objects = 0;
    // Written once per piece of input, however many documents it completes: a write is a system
    // call, and 305k small documents make about 800 pieces of 64 KiB.
    const flush = async (documents: Iterable<StreamedDocument>): Promise<void> => {
      let out = "";
      try {
        for (const streamed of documents) {
          const text = injectDocument(streamed, options, name, io.warn);
          if (text === undefined) continue;
          objects++;
          out += first ? text : `---\n${text}`;
          first = false;
        }
      } finally {
        // The documents before a bad one are written before it is reported.
        if (out !== "") await io.write(out);
      }
    };
    const source: AsyncIterable<Uint8Array> = file === "-" ? process.stdin : createReadStream(file);
    const chunks = source[Symbol.asyncIterator]();
    let ended = false;
    try {
      for (;;) {
        const next = await chunks.next().catch((e: unknown) => {
          throw new Error(`cannot read ${name}: ${readError(e)}`);
        });
        if (next.done) break;
        const decoded = bytes.decode(next.value);
        await flush(stream.push(decoded.text));
        if (decoded.invalidAt !== undefined) throw stream.fail(`byte ${decoded.invalidAt} is not UTF-8 text (binary input?)`);
      }
      ended = true;
      const last = bytes.end();
      if (last.invalidAt !== undefined) throw stream.fail(`the input ends inside a UTF-8 character (byte ${last.invalidAt})`);
      await flush(stream.end());
    } catch (e) {
      if (e instanceof InputError) throw new InputError(`${name}: ${e.message}`);
      throw e;
    } finally {
      // Stops reading an input left before its end (bad input, or output that failed).
      if (!ended) await chunks.return?.();
    }
    if (objects === 0) io.warn(`${name}: no Kubernetes objects in the input`);
  }
}

/** Writes that wait while the reader is behind, and fail once stdout has failed (EPIPE). */
class StdoutWriter {
  private failure: Error | undefined;
  private readonly stream: NodeJS.WriteStream;

  constructor(stream: NodeJS.WriteStream) {
    this.stream = stream;
    stream.on("error", (e) => {
      this.failure = e;
    });
  }

  async write(text: string): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.stream.write(text)) await once(this.stream, "drain");
    if (this.failure) throw this.failure;
  }
}

export async function run(argv: readonly string[]): Promise<number> {
  const parsed = readCommandLine("tailcar inject", HELP, () => parseInjectArgs(argv));
  if (typeof parsed === "number") return parsed;
  const out = new StdoutWriter(process.stdout);
  // Warnings are written with the output they are about, not one system call each: a stream of
  // many pods can warn about every one of them.
  let warnings = "";
  const flushWarnings = (): void => {
    if (warnings !== "") process.stderr.write(warnings);
    warnings = "";
  };
  try {
    await injectInputs(parsed.files, parsed.options, {
      warn: (line) => void (warnings += `warning: ${line}\n`),
      write: (text) => {
        flushWarnings();
        return out.write(text);
      },
      maxDocumentChars: parsed.maxDocumentMiB * MIB,
    });
    flushWarnings();
    return 0;
  } catch (e) {
    flushWarnings();
    // A reader that went away (`| head`) is not an error of the input, and needs no message.
    if ((e as NodeJS.ErrnoException).code !== "EPIPE") process.stderr.write(`tailcar inject: ${(e as Error).message}\n`);
    return 1;
  }
}

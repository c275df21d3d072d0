// The I/O shell shared by `tailcar inject` and `tailcar uninject`: manifests in (many documents,
// many files, stdin), each document changed by a pure function of the object, YAML out on stdout
// with only that change applied to the document as written, warnings on stderr.
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import jsonpatch from "fast-json-patch";
import { isCollection, parse, stringify, type Document } from "yaml";
import { bool, count, list, text } from "../settings/kinds.ts";
import { readCommandLine } from "../settings/command-line.ts";
import { SettingsError } from "../settings/read.ts";
import { setting } from "../settings/row.ts";
import { Utf8Text } from "./utf8-text.ts";
import { applyPatchToDocument } from "./yaml-patch.ts";
import { InputError, YamlDocumentStream, type StreamedDocument } from "./yaml-stream.ts";

/**
 * The largest document read (a Kubernetes object is at most 1.5 MiB in etcd; a List of many can be
 * more). A document takes about 250 MiB of memory per MiB while it is injected (docs/decisions.md).
 */
export const DEFAULT_MAX_DOCUMENT_MIB = 4;
export const MIB = 1024 * 1024;

/** The rows of both commands' input and help. */
export const FILENAME_ROW = setting("filename", list(text), [] as readonly string[], "manifest file, or - for stdin; repeatable", { flag: "--filename", short: "f" });
export const MAX_DOCUMENT_SIZE_ROW = setting("maxDocumentSize", count(1, 9999), DEFAULT_MAX_DOCUMENT_MIB, "refuse a document larger than N MiB", { flag: "--max-document-size" });
export const HELP_ROW = setting("help", bool, false, "show this help", { flag: "--help", short: "h" });

/** What both commands' --help say about reading, after their options. */
export const STREAMING_HELP = `Documents are read and written one at a time, so memory follows the largest document, not the
input. Input that is not UTF-8 YAML text (binary), a document that is not a Kubernetes object (a
string or number at the top) or one larger than the limit is an error (exit 1) naming the document;
the documents before it have been written. An empty input gives no output and a warning.`;

/** What a command does to one Kubernetes object; `where` names the document for warnings. */
export type ManifestChange = (object: Record<string, unknown>, where: string) => { readonly object: unknown; readonly warnings: readonly string[] };

// Sidecars are shared between pods with the same layout (memo.ts): written out in full each time,
// not as YAML anchors and aliases.
const fromObject = (object: unknown): string => stringify(object, { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false });

/**
 * The input document with only the change applied (to `doc` itself, which is not used again), so
 * its comments, key order and quoting survive; undefined when it is JSON, cannot be edited in place
 * (an alias, or a key that is not a string, on a changed path) or does not read back as exactly
 * `changed`: then it is written from the object.
 */
function asWritten(doc: Document, original: unknown, changed: unknown): string | undefined {
  // JSON (kubectl get -o json) is YAML in flow style: edited in place it would stay one long line.
  // It has no comments to keep, so it is written as block YAML from the object.
  if (isCollection(doc.contents) && doc.contents.flow === true) return undefined;
  try {
    applyPatchToDocument(doc, jsonpatch.compare(original as object, changed as object));
    // The separators between documents are written by the caller.
    if (doc.directives) doc.directives.docStart = null;
    const text = doc.toString({ lineWidth: 0 });
    return isDeepStrictEqual(parse(text, { version: "1.1" }), changed) ? text : undefined;
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
 * One document changed: its text, or undefined for an empty document (only comments, or `---`
 * alone), which is left out. Throws InputError, naming the document, when it is not a Kubernetes
 * object (a string or number at the top is what binary or non-YAML input reads as).
 */
export function changeDocument(streamed: StreamedDocument, change: ManifestChange, where: string, warn: (line: string) => void): string | undefined {
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
  const result = change(object as Record<string, unknown>, `${where} document ${streamed.index}`);
  for (const w of result.warnings) warn(w);
  return asWritten(streamed.doc, object, result.object) ?? fromObject(result.object);
}

export interface ManifestIo {
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
 * Changes every document of every input, in order, writing each piece of output as soon as the
 * input read so far completes it: memory is bounded by the largest document, not the input.
 * Throws with the input's name and the document number on bad input, after writing the documents
 * before it.
 */
export async function changeInputs(files: readonly string[], change: ManifestChange, io: ManifestIo): Promise<void> {
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
          const text = changeDocument(streamed, change, name, io.warn);
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

/**
 * Runs `change` over the inputs to stdout, warnings to stderr; the exit code: 0, or 1 with
 * `command: message` on stderr when an input is bad or unreadable.
 */
async function runOnStdio(command: string, files: readonly string[], change: ManifestChange, maxDocumentMiB: number): Promise<number> {
  const out = new StdoutWriter(process.stdout);
  // Warnings are written with the output they are about, not one system call each: a stream of
  // many pods can warn about every one of them.
  let warnings = "";
  const flushWarnings = (): void => {
    if (warnings !== "") process.stderr.write(warnings);
    warnings = "";
  };
  try {
    await changeInputs(files, change, {
      warn: (line) => void (warnings += `warning: ${line}\n`),
      write: (text) => {
        flushWarnings();
        return out.write(text);
      },
      maxDocumentChars: maxDocumentMiB * MIB,
    });
    flushWarnings();
    return 0;
  } catch (e) {
    flushWarnings();
    // A reader that went away (`| head`) is not an error of the input, and needs no message.
    if ((e as NodeJS.ErrnoException).code !== "EPIPE") process.stderr.write(`${command}: ${(e as Error).message}\n`);
    return 1;
  }
}

/** What both commands read from FILENAME_ROW, MAX_DOCUMENT_SIZE_ROW and HELP_ROW. */
export interface InputArgs {
  readonly files: readonly string[];
  readonly maxDocumentMiB: number;
  readonly help: boolean;
}

/** The rows' values as InputArgs; throws SettingsError when no input is given (unless --help). */
export function inputArgs(values: { readonly filename: readonly string[]; readonly maxDocumentSize: number; readonly help: boolean }): InputArgs {
  if (values.filename.length === 0 && !values.help) throw new SettingsError("no input: give -f FILE, or -f - to read stdin");
  return { files: values.filename, maxDocumentMiB: values.maxDocumentSize, help: values.help };
}

export interface ManifestCommand<A extends InputArgs> {
  /** "tailcar inject", for messages. */
  readonly name: string;
  readonly usage: string;
  /** Throws SettingsError naming the flag of a bad value. */
  readonly parse: (argv: readonly string[]) => A;
  readonly change: (args: A) => ManifestChange;
}

/**
 * A command line run: exit code 2 with the problem and the usage on stderr when it is wrong, the
 * usage on stdout for --help, else the change over the inputs (runOnStdio).
 */
export async function runManifestCommand<A extends InputArgs>(argv: readonly string[], command: ManifestCommand<A>): Promise<number> {
  const args = readCommandLine(command.name, command.usage, () => command.parse(argv));
  if (typeof args === "number") return args;
  return runOnStdio(command.name, args.files, command.change(args), args.maxDocumentMiB);
}

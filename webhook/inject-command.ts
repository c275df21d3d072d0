// `tailcar inject -f FILE|-`: offline injection, like `istioctl kube-inject`. YAML in (many
// documents, many files), YAML out on stdout, warnings on stderr.
import { once } from "node:events";
import { createReadStream } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import jsonpatch from "fast-json-patch";
import { isCollection, parse, stringify, type Document } from "yaml";
import {
  DEFAULT_INJECT_OPTIONS, DELIVERY_MODES, MAX_SIDECARS_PER_POD_CEILING, PULL_POLICIES, SIDECAR_MODES, type InjectOptions,
} from "./options.ts";
import { deepFreeze } from "./deep-freeze.ts";
import { imageReferenceProblem } from "./image-reference.ts";
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

const HELP = `Usage: tailcar inject -f FILE|- [-f FILE …] [options]

Reads Kubernetes manifests (multi-document YAML), adds one streaming sidecar per file named in each
pod's tailcar.io/files annotation (Pods, Deployments, StatefulSets, DaemonSets, ReplicaSets, Jobs,
CronJobs, Lists), and writes the result to stdout. Other kinds pass through unchanged. Comments,
key order and quoting are kept; JSON input, and a document with a YAML alias on a changed path,
come out as block YAML written anew.
Warnings go to stderr, prefixed with the object they are about.

Options:
  -f, --filename FILE        manifest file, or - for stdin; repeatable
      --image IMAGE          sidecar image (default ${DEFAULT_INJECT_OPTIONS.image})
      --image-pull-policy P  Always|IfNotPresent|Never (default ${DEFAULT_INJECT_OPTIONS.imagePullPolicy})
      --sidecar-mode MODE    native|classic (default native: init container with restartPolicy Always,
                             needs Kubernetes 1.29+; classic: an ordinary container)
      --mode MODE            stream|forward (default ${DEFAULT_INJECT_OPTIONS.mode})
      --format FORMAT        raw|json (default ${DEFAULT_INJECT_OPTIONS.format})
      --max-sidecars-per-pod N
                             sidecars one pod may get, 1-${MAX_SIDECARS_PER_POD_CEILING} (default ${DEFAULT_INJECT_OPTIONS.maxSidecarsPerPod});
                             the files past it are left out with a warning
      --max-document-size N  refuse a document larger than N MiB (default ${DEFAULT_MAX_DOCUMENT_MIB})
  -h, --help                 show this help

Documents are read and written one at a time, so memory follows the largest document, not the
input. Input that is not UTF-8 YAML text (binary), a document that is not a Kubernetes object (a
string or number at the top) or one larger than the limit is an error (exit 1) naming the document;
the documents before it have been written. An empty input gives no output and a warning.

Example: kubectl get deploy web -o yaml | tailcar inject -f - | kubectl apply -f -
`;

class UsageError extends Error {}

function oneOf<T extends string>(value: string, allowed: readonly T[], flag: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag}: "${value}" is not one of ${allowed.join(", ")}`);
}

function image(value: string, flag: string): string {
  const problem = imageReferenceProblem(value);
  if (problem !== undefined) throw new UsageError(`${flag}: "${value}" ${problem}`);
  return value;
}

function count(value: string, flag: string): number {
  const n = Number(value);
  if (/^\d+$/.test(value) && n >= 1 && n <= MAX_SIDECARS_PER_POD_CEILING) return n;
  throw new UsageError(`${flag}: "${value}" is not a whole number from 1 to ${MAX_SIDECARS_PER_POD_CEILING}`);
}

function mebibytes(value: string, flag: string): number {
  if (/^[1-9]\d{0,3}$/.test(value)) return Number(value);
  throw new UsageError(`${flag}: "${value}" is not a whole number of MiB from 1 to 9999`);
}

export interface InjectArgs {
  readonly files: string[];
  readonly options: InjectOptions;
  readonly maxDocumentMiB: number;
  readonly help: boolean;
}

export function parseInjectArgs(argv: readonly string[]): InjectArgs {
  const files: string[] = [];
  let maxDocumentMiB = DEFAULT_MAX_DOCUMENT_MIB;
  const options: InjectOptions = structuredClone(DEFAULT_INJECT_OPTIONS);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") return { files, options, maxDocumentMiB, help: true };
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string => {
      const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (v === undefined || v === "") throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "-f": case "--filename": files.push(value()); break;
      case "--image": options.image = image(value(), flag); break;
      case "--image-pull-policy": options.imagePullPolicy = oneOf(value(), PULL_POLICIES, flag); break;
      case "--sidecar-mode": options.sidecarMode = oneOf(value(), SIDECAR_MODES, flag); break;
      case "--mode": options.mode = oneOf(value(), DELIVERY_MODES, flag); break;
      case "--format": options.format = oneOf(value(), ["raw", "json"] as const, flag); break;
      case "--max-sidecars-per-pod": options.maxSidecarsPerPod = count(value(), flag); break;
      case "--max-document-size": maxDocumentMiB = mebibytes(value(), flag); break;
      default: throw new UsageError(`unknown option "${arg}"`);
    }
  }
  if (files.length === 0) throw new UsageError("no input: give -f FILE, or -f - to read stdin");
  return { files, options: deepFreeze(options), maxDocumentMiB, help: false };
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
  let parsed: InjectArgs;
  try {
    parsed = parseInjectArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`tailcar inject: ${e.message}\n\n${HELP}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
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

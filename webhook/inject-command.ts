// `tailcar inject -f FILE|-`: offline injection, like `istioctl kube-inject`. YAML in (many
// documents, many files), YAML out on stdout, warnings on stderr.
import { readFile } from "node:fs/promises";
import { isDeepStrictEqual } from "node:util";
import jsonpatch from "fast-json-patch";
import { isCollection, parse, parseAllDocuments, stringify, type Document } from "yaml";
import {
  DEFAULT_INJECT_OPTIONS, DELIVERY_MODES, MAX_SIDECARS_PER_POD_CEILING, PULL_POLICIES, SIDECAR_MODES, type InjectOptions,
} from "./options.ts";
import { deepFreeze } from "./deep-freeze.ts";
import { imageReferenceProblem } from "./image-reference.ts";
import { injectManifest } from "./workloads.ts";
import { applyPatchToDocument } from "./yaml-patch.ts";

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
  -h, --help                 show this help

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

export function parseInjectArgs(argv: readonly string[]): { files: string[]; options: InjectOptions; help: boolean } {
  const files: string[] = [];
  const options: InjectOptions = structuredClone(DEFAULT_INJECT_OPTIONS);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") return { files, options, help: true };
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
      default: throw new UsageError(`unknown option "${arg}"`);
    }
  }
  if (files.length === 0) throw new UsageError("no input: give -f FILE, or -f - to read stdin");
  return { files, options: deepFreeze(options), help: false };
}

async function readInput(file: string): Promise<string> {
  if (file !== "-") return readFile(file, "utf8");
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
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

/** Injects every document of every input; throws with file and document number on bad YAML. */
export async function injectInputs(files: readonly string[], options: InjectOptions, warn: (line: string) => void): Promise<string> {
  const out: string[] = [];
  for (const file of files) {
    const name = file === "-" ? "<stdin>" : file;
    let text: string;
    try {
      text = await readInput(file);
    } catch (e) {
      throw new Error(`cannot read ${name}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
    }
    // YAML 1.1, as kubectl reads manifests: an unquoted `yes` or `on` is a boolean there, so it must
    // be read the same way here, and a string "yes" must come out quoted.
    const documents = parseAllDocuments(text, { version: "1.1" });
    if (!Array.isArray(documents)) continue; // an empty stream
    documents.forEach((doc, i) => {
      const error = doc.errors[0];
      if (error) throw new Error(`${name}: document ${i + 1}: ${error.message.split("\n")[0]!.replace(/:$/, "")}`);
    });
    documents.forEach((doc, i) => {
      const object: unknown = doc.toJS();
      if (object === null || object === undefined) return;
      const result = injectManifest(object, options, `${name} document ${i + 1}`);
      for (const w of result.warnings) warn(w);
      out.push(asWritten(doc, object, result.object) ?? fromObject(result.object));
    });
  }
  return out.join("---\n");
}

export async function run(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseInjectArgs>;
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
  try {
    const yaml = await injectInputs(parsed.files, parsed.options, (line) => process.stderr.write(`warning: ${line}\n`));
    process.stdout.write(yaml);
    return 0;
  } catch (e) {
    process.stderr.write(`tailcar inject: ${(e as Error).message}\n`);
    return 1;
  }
}

// Who may import whom: the sidecar image carries neither express nor the Kubernetes client, and the
// contract between injector and tailer lives in settings/, which both import and which imports
// neither. Production code never imports test code.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const DIRS = ["cli", "webhook", "sidecar", "settings", "demo", "localcluster", "bench", "test"];

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !join(e.parentPath, e.name).includes("node_modules"))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/** The relative modules a file imports (static, re-exported or dynamic), as paths from the root. */
export function importsOf(file: string, text: string): string[] {
  const specifiers = [...text.matchAll(/(?:^|[\s;])(?:import|export)\s[^;"'`]*?from\s*["']([^"']+)["']|(?:^|[\s;])import\s*["']([^"']+)["']|\bimport\(\s*["']([^"']+)["']\s*\)/gm)]
    .map((m) => m[1] ?? m[2] ?? m[3]!);
  return specifiers.filter((s) => s.startsWith(".")).map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)));
}

const top = (path: string): string => path.split("/")[0]!;

const RULES: [from: string, to: string, why: string][] = [
  ["sidecar", "webhook", "the sidecar image would load the webhook"],
  ["webhook", "sidecar", "the webhook takes the contract from settings/, not the sidecar"],
  ["settings", "webhook", "settings/ stands under both halves"],
  ["settings", "sidecar", "settings/ stands under both halves"],
];

test("import rules: sidecar never imports webhook, webhook never imports sidecar, settings imports neither, nothing outside test/ imports test/", () => {
  const broken: string[] = [];
  for (const file of DIRS.flatMap(sources)) {
    for (const target of importsOf(file, readFileSync(join(ROOT, file), "utf8"))) {
      for (const [from, to, why] of RULES) if (top(file) === from && top(target) === to) broken.push(`${file} imports ${target}: ${why}`);
      if (top(file) !== "test" && top(target) === "test") broken.push(`${file} imports ${target}: production code never imports test code`);
    }
  }
  assert.deepEqual(broken, []);
});

test("the import scan sees static, re-exported, side-effect and dynamic imports", () => {
  const text = `import a from "../webhook/a.ts";\nexport { b } from "../webhook/b.ts";\nimport "../webhook/c.ts";\nconst d = () => import("../webhook/d.ts");\nimport {\n  e,\n} from "./e.ts";\n`;
  assert.deepEqual(importsOf("sidecar/x.ts", text), ["webhook/a.ts", "webhook/b.ts", "webhook/c.ts", "webhook/d.ts", "sidecar/e.ts"]);
});

/** The pure core of injection: loading these (and what they import) must read no file. */
const PURE_CORE = ["webhook/injection-rows.ts", "webhook/options.ts", "webhook/inject.ts", "webhook/workloads.ts", "webhook/admit.ts", "webhook/uninject.ts"];
const FILE_READING = /(?:from\s*|import\s*\(?\s*|getBuiltinModule\(\s*)["'](?:node:)?fs(?:\/promises)?["']/;

/** Every module `roots` load, following relative imports. */
function closure(roots: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    for (const target of importsOf(file, readFileSync(join(ROOT, file), "utf8"))) visit(target);
  };
  roots.forEach(visit);
  return [...seen].sort();
}

test("the injection core (rows, options, inject, workloads, admit, uninject) loads nothing that reads files: the version is given by the commands", () => {
  const readers = closure(PURE_CORE).filter((file) => FILE_READING.test(readFileSync(join(ROOT, file), "utf8")));
  assert.deepEqual(readers, []);
});

test("the file-reading scan sees node:fs imported, re-exported, dynamically and through getBuiltinModule", () => {
  for (const text of [`import { readFileSync } from "node:fs";`, `export { readFile } from "fs/promises";`, `await import("node:fs")`, `process.getBuiltinModule("node:fs")`]) assert.match(text, FILE_READING);
  for (const text of [`import { x } from "./fs.ts";`, `import { parse } from "yaml";`]) assert.doesNotMatch(text, FILE_READING);
});

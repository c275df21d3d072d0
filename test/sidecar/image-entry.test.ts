// The image's `tailcar` (sidecar/tailcar-entry.sh) runs raw format with --lite-mode and JSON
// format without it, whether the format comes from a flag or from TAILCAR_FORMAT.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { tempDir } from "./harness.ts";

const ENTRY = new URL("../../sidecar/tailcar-entry.sh", import.meta.url).pathname;

test("the entry script passes --lite-mode to node for raw format only, and the arguments through", (t) => {
  const dir = tempDir(t);
  const main = join(dir, "print-flags.mjs");
  writeFileSync(main, "process.stdout.write(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2) }));\n");
  const run = (args: string[], format?: string): { execArgv: string[]; argv: string[] } => {
    const env: Record<string, string | undefined> = { ...process.env, TAILCAR_MAIN: main, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}` };
    delete env.TAILCAR_FORMAT;
    if (format !== undefined) env.TAILCAR_FORMAT = format;
    const r = spawnSync("sh", [ENTRY, ...args], { encoding: "utf8", env, timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { execArgv: string[]; argv: string[] };
  };
  assert.deepEqual(run(["sidecar", "--file", "/x y.log"]), { execArgv: ["--lite-mode"], argv: ["sidecar", "--file", "/x y.log"] });
  assert.deepEqual(run(["sidecar", "--format", "raw"]).execArgv, ["--lite-mode"]);
  assert.deepEqual(run(["sidecar", "--format", "json"]).execArgv, []);
  assert.deepEqual(run(["sidecar", "--format=json"]).execArgv, []);
  assert.deepEqual(run(["sidecar"], "json").execArgv, []);
  assert.deepEqual(run(["sidecar", "--format", "raw"], "json").execArgv, ["--lite-mode"], "the flag wins over the environment");
});

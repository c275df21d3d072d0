// The image's `tailcar` (sidecar/tailcar-entry.sh) runs raw format to stdout with --lite-mode, and
// JSON format or forwarding without it, whether the format and sink come from flags or the environment.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { writeFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { tempDir } from "./harness.ts";

const ENTRY = new URL("../../sidecar/tailcar-entry.sh", import.meta.url).pathname;

test("the entry script passes --lite-mode to node for raw format to stdout only, and the arguments through", (t) => {
  const dir = tempDir(t);
  const main = join(dir, "print-flags.mjs");
  writeFileSync(main, "process.stdout.write(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2) }));\n");
  const run = (args: string[], format?: string, sink?: string): { execArgv: string[]; argv: string[] } => {
    const env: Record<string, string | undefined> = { ...process.env, TAILCAR_MAIN: main, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}` };
    delete env.TAILCAR_FORMAT;
    delete env.TAILCAR_SINK;
    if (format !== undefined) env.TAILCAR_FORMAT = format;
    if (sink !== undefined) env.TAILCAR_SINK = sink;
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
  assert.deepEqual(run(["sidecar", "--sink", "stdout"]).execArgv, ["--lite-mode"]);
  assert.deepEqual(run(["sidecar", "--sink", "loki"]).execArgv, [], "forwarding needs fetch, which --lite-mode breaks");
  assert.deepEqual(run(["sidecar", "--sink=elasticsearch"]).execArgv, []);
  assert.deepEqual(run(["sidecar"], undefined, "loki").execArgv, []);
  assert.deepEqual(run(["sidecar", "--sink", "stdout"], undefined, "loki").execArgv, ["--lite-mode"], "the flag wins over the environment");
});

test("why forwarding runs without --lite-mode: under it, Node's fetch cannot read an answer (WebAssembly is left out)", async (t) => {
  const server = createServer((_req, res) => res.end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;
  const probe = `fetch("http://127.0.0.1:${port}/").then((r) => r.text(), (e) => String(e.cause?.message ?? e.message)).then((s) => process.stdout.write(s))`;
  const run = async (flags: string[]): Promise<string> => {
    const child = spawn(process.execPath, [...flags, "-e", probe], { stdio: ["ignore", "pipe", "inherit"], timeout: 10_000 });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    await once(child, "exit");
    return out;
  };
  assert.match(await run(["--lite-mode"]), /WebAssembly is not defined/);
  assert.equal(await run([]), "ok");
});

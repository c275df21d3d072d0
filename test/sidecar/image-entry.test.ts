// The image's `tailcar` (sidecar/tailcar-entry.sh) runs the CLI with the arguments as given and no
// Node flags of its own: the sidecar chooses them from its parsed settings (node-flags.test.ts).
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

test("the entry script passes the arguments through untouched and chooses no Node flags, whatever the format and sink", (t) => {
  const dir = tempDir(t);
  const main = join(dir, "print-flags.mjs");
  writeFileSync(main, "process.stdout.write(JSON.stringify({ execArgv: process.execArgv, argv: process.argv.slice(2) }));\n");
  const run = (args: string[], env: Record<string, string> = {}): { execArgv: string[]; argv: string[] } => {
    const r = spawnSync("sh", [ENTRY, ...args], {
      encoding: "utf8",
      env: { ...process.env, TAILCAR_MAIN: main, PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`, ...env },
      timeout: 10_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { execArgv: string[]; argv: string[] };
  };
  const cases: [string[], Record<string, string>?][] = [
    [["sidecar", "--file", "/x y.log"]],
    [["sidecar", "--format", "raw", "--sink=stdout"]],
    [["sidecar", "--format", "json"]],
    [["sidecar", "--sink", "loki", "--endpoint", "http://loki:3100"]],
    [["sidecar"], { TAILCAR_FORMAT: "raw", TAILCAR_SINK: "stdout" }],
    [["sidecar", "--format=*", "--sink", "$HOME", ""]],
  ];
  for (const [args, env] of cases) assert.deepEqual(run(args, env), { execArgv: [], argv: args }, args.join(" "));
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

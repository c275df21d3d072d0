// What the sidecar loads decides most of its idle RSS (docs/decisions.md, "The sidecar's memory at
// idle"): following a file to stdout in raw format must not load node:crypto, node:fs/promises
// (with readline and the REPL history) and the fs streams, which any named import from "node:fs"
// would load, or net and the stream modules, which process.stdout on a pipe would load.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { closeSync, existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLI, runtimePipe, tempDir, until } from "./harness.ts";

/**
 * The built-in modules of a sidecar on `log` (holding "one\ntwo\n") once it wrote the file's lines
 * to a pipe and waits under fs.watch (idle): `wrote` says when its stdout holds them, `args` and
 * `env` how it starts.
 */
async function idleModules(t: TestContext, dir: string, args: readonly string[], env: NodeJS.ProcessEnv, wrote: (stdout: string) => boolean): Promise<string[]> {
  const report = join(dir, "loaded.json");
  // Runs inside the sidecar: once its output arrived, the test asks (SIGUSR2) for what is loaded.
  const preload = join(dir, "report-loaded.mjs");
  writeFileSync(
    preload,
    `process.on("SIGUSR2", () => {
      const fs = process.getBuiltinModule("node:fs");
      fs.writeFileSync(${JSON.stringify(report + ".tmp")}, JSON.stringify(process.moduleLoadList));
      fs.renameSync(${JSON.stringify(report + ".tmp")}, ${JSON.stringify(report)});
    });\n`,
  );
  // stdout a pipe as a container runtime gives it, so the sink writes on its inline path.
  const stdout = runtimePipe();
  const child = spawn(process.execPath, ["--import", preload, CLI, "sidecar", ...args], { env, stdio: ["ignore", stdout.childEnd, "pipe"] });
  closeSync(stdout.childEnd);
  t.after(() => {
    child.kill("SIGKILL");
    stdout.ours.destroy();
  });
  let out = "";
  stdout.ours.on("data", (d: Buffer) => (out += d.toString()));
  await until(() => wrote(out), 10_000, "the file's two lines on stdout");
  // The lines reach the pipe before the follower gets to its first wait, where it arms fs.watch:
  // ask again until the list shows that wait (the sidecar is idle), so the check is not a race.
  let loaded: string[] = [];
  await until(
    () => {
      if (existsSync(report)) {
        loaded = JSON.parse(readFileSync(report, "utf8")) as string[];
        if (loaded.includes("NativeModule internal/fs/watchers")) return true;
        rmSync(report);
      }
      child.kill("SIGUSR2");
      return false;
    },
    10_000,
    "a list of loaded modules that shows the follower waiting under fs.watch",
  );
  return loaded;
}

const PARSE_ARGS = "NativeModule internal/util/parse_args/parse_args";

test("an idle raw-format sidecar writing to a pipe has not loaded node:crypto, node:fs/promises, the fs streams, net or stream", async (t) => {
  const dir = tempDir(t);
  const log = join(dir, "app.log");
  writeFileSync(log, "one\ntwo\n");
  const loaded = await idleModules(t, dir, ["--file", log], process.env, (out) => out === "one\ntwo\n");
  for (const unwanted of ["NativeModule crypto", "NativeModule fs/promises", "NativeModule internal/repl/history", "NativeModule internal/fs/streams", "NativeModule net", "NativeModule stream"]) {
    assert.ok(!loaded.includes(unwanted), `${unwanted} is not loaded`);
  }
  // Started by plain node, it re-executed itself under --lite-mode and took the settings its
  // predecessor parsed: the settings engine (parseArgs, the rows) was never loaded (about 1 MiB).
  assert.ok(!loaded.includes(PARSE_ARGS), "the re-executed sidecar did not parse its settings again");
});

test("an idle JSON-format sidecar started as in a pod (settings in its environment, no flags) has not loaded parseArgs", async (t) => {
  const dir = tempDir(t);
  const log = join(dir, "app.log");
  writeFileSync(log, "one\ntwo\n");
  // JSON runs without --lite-mode, so it is not re-executed: it parses its settings itself.
  const loaded = await idleModules(t, dir, [], { ...process.env, TAILCAR_FILES: log, TAILCAR_FORMAT: "json" }, (out) => /"log":"one".*\n.*"log":"two".*\n$/.test(out));
  assert.ok(!loaded.includes(PARSE_ARGS), "parseArgs was loaded with no flags to read (0.2-0.4 MiB of RSS, docs/decisions.md)");
});

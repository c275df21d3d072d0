// The sidecar's Node flags follow from its parsed settings (sidecar/node-flags.ts): --lite-mode for
// raw format to stdout only, and a sidecar started without the flags it needs replaces itself (same
// pid) with one that has them, once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseSidecarConfig } from "../../sidecar/config.ts";
import { handedSettings, RELAUNCHED_ENV, nodeFlagsFor, relaunchFlags } from "../../sidecar/node-flags.ts";
import { CLI, tempDir, until } from "./harness.ts";

test("--lite-mode for raw format to stdout only: JSON needs the optimizing compilers, forwarding needs WebAssembly for fetch", () => {
  const flags = (args: string[]): readonly string[] => nodeFlagsFor(parseSidecarConfig(["--file", "/f", ...args], {}));
  assert.deepEqual(flags([]), ["--lite-mode"]);
  assert.deepEqual(flags(["--format", "json"]), []);
  assert.deepEqual(flags(["--sink", "loki", "--endpoint", "http://loki:3100"]), []);
  assert.deepEqual(flags(["--sink", "elasticsearch", "--endpoint", "http://es:9200"]), []);
  const fromEnv = parseSidecarConfig([], { TAILCAR_FILES: "/f", TAILCAR_FORMAT: "json" });
  assert.deepEqual(nodeFlagsFor(fromEnv), [], "the environment decides as the flags do");
});

test("a relaunch adds or removes only the decided flags, keeps the others, and never happens twice", () => {
  assert.deepEqual(relaunchFlags(["--lite-mode"], [], {}), ["--lite-mode"]);
  assert.equal(relaunchFlags(["--lite-mode"], ["--lite-mode"], {}), undefined, "already under the flags it needs");
  assert.equal(relaunchFlags([], [], {}), undefined);
  assert.deepEqual(relaunchFlags([], ["--import", "x.mjs", "--lite-mode"], {}), ["--import", "x.mjs"]);
  assert.deepEqual(relaunchFlags(["--lite-mode"], ["--import", "x.mjs"], {}), ["--import", "x.mjs", "--lite-mode"]);
  assert.equal(relaunchFlags(["--lite-mode"], [], { [RELAUNCHED_ENV]: "1" }), undefined, "the marker stops a loop");
});

test("the replacement takes the settings its predecessor parsed; a marker that is not JSON hands nothing", () => {
  const parsed = parseSidecarConfig(["--file", "/a.log", "--checkpoint-dir", "/cp"], { TAILCAR_POD_NAME: "web-1" });
  assert.deepEqual(handedSettings({ [RELAUNCHED_ENV]: JSON.stringify(parsed) }), JSON.parse(JSON.stringify(parsed)));
  assert.equal(handedSettings({ [RELAUNCHED_ENV]: "1" }), undefined);
  assert.equal(handedSettings({}), undefined);
});

/** Starts `node <nodeFlags> CLI sidecar <args>`; once it follows its file, the Node flags its process (the pid spawned) runs under. */
async function runningFlags(t: Parameters<typeof tempDir>[0], nodeFlags: string[], args: string[], env: Record<string, string> = {}): Promise<string[]> {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, "one\n");
  const childEnv: Record<string, string | undefined> = { ...process.env, ...env };
  if (env[RELAUNCHED_ENV] === undefined) delete childEnv[RELAUNCHED_ENV];
  const child = spawn(process.execPath, [...nodeFlags, CLI, "sidecar", "--file", file, ...args], { stdio: ["ignore", "pipe", "pipe"], env: childEnv });
  t.after(() => void child.kill("SIGKILL"));
  child.stdout.resume();
  let err = "";
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  await until(() => err.includes('"following file"'), 10_000, () => `the sidecar to follow its file; stderr: ${err}`);
  const cmdline = readFileSync(`/proc/${child.pid}/cmdline`, "utf8").split("\0");
  const script = cmdline.indexOf(CLI);
  assert.ok(script > 0, `the process ${child.pid} still runs the CLI: ${cmdline.join(" ")}`);
  assert.equal(child.exitCode, null, "the process spawned is the one running");
  return cmdline.slice(1, script);
}

test("a raw-format sidecar started by plain node runs under --lite-mode, in the same process", { timeout: 20_000 }, async (t) => {
  assert.deepEqual((await runningFlags(t, [], [])), ["--lite-mode"]);
  assert.deepEqual((await runningFlags(t, [], [], { TAILCAR_FORMAT: "raw" })), ["--lite-mode"]);
});

test("a JSON or forwarding sidecar runs without --lite-mode, even when started with it; other flags are kept", { timeout: 20_000 }, async (t) => {
  assert.deepEqual((await runningFlags(t, ["--lite-mode"], ["--format", "json"])), []);
  assert.deepEqual((await runningFlags(t, [], ["--format", "json"])), []);
  assert.deepEqual((await runningFlags(t, ["--lite-mode", "--no-warnings"], ["--sink", "loki", "--endpoint", "http://127.0.0.1:9"])), ["--no-warnings"]);
});

test(`a sidecar with ${RELAUNCHED_ENV} set runs under the flags node was started with`, { timeout: 20_000 }, async (t) => {
  assert.deepEqual((await runningFlags(t, [], [], { [RELAUNCHED_ENV]: "1" })), []);
});

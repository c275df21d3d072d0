// The dispatcher's command line (runs the built CLI: `npm run build` before running this file alone).
// Usage that was asked for goes to stdout with exit 0; usage given because the command line was
// wrong goes to stderr with exit 2, for tailcar itself and for every subcommand.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

function tailcar(args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { input: "", encoding: "utf8", timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("tailcar with no arguments prints its usage on stderr and exits 2", () => {
  const r = tailcar([]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^Usage: tailcar <command>/);
});

test("tailcar --help, -h and help print the usage on stdout and exit 0", () => {
  for (const args of [["--help"], ["-h"], ["help"]]) {
    const r = tailcar(args);
    assert.equal(r.status, 0, args.join(" "));
    assert.equal(r.stderr, "", args.join(" "));
    assert.match(r.stdout, /^Usage: tailcar <command>/, args.join(" "));
  }
});

test("tailcar with an unknown command names it and prints the usage on stderr, exit 2", () => {
  const r = tailcar(["nope"]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, "");
  assert.match(r.stderr, /^tailcar: unknown command "nope"\n\nUsage: tailcar <command>/);
});

test("every subcommand's --help goes to stdout with exit 0, and its usage errors to stderr with exit 2", () => {
  for (const command of ["webhook", "sidecar", "inject", "check"]) {
    const help = tailcar([command, "--help"]);
    assert.equal(help.status, 0, command);
    assert.equal(help.stderr, "", command);
    assert.match(help.stdout, /Usage|usage/, command);
    const bad = tailcar([command, "--no-such-flag"]);
    assert.equal(bad.status, 2, `${command}: ${bad.stderr}`);
    assert.equal(bad.stdout, "", command);
    assert.match(bad.stderr, new RegExp(`^tailcar ${command}: unknown option "--no-such-flag"`), command);
  }
});

// The bench tools' arguments (bench/tool-args.ts): a mistyped flag or a value that is not a number
// is an error naming it, not a silent default (the old hand-rolled `flag` helpers took NaN or the
// fallback and ran for minutes).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseToolArgs } from "../../bench/tool-args.ts";

const kinds = { rounds: "number", out: "string" } as const;

test("tool arguments: numbers, strings, positionals, --help, and the errors that name what is wrong", () => {
  const cases: { args: string[]; want: unknown }[] = [
    { args: [], want: { help: false, positionals: [], values: {} } },
    { args: ["tailcar", "--rounds", "4", "noop"], want: { help: false, positionals: ["tailcar", "noop"], values: { rounds: 4 } } },
    { args: ["--rounds=2.5", "--out", "x.out"], want: { help: false, positionals: [], values: { rounds: 2.5, out: "x.out" } } },
    { args: ["--help"], want: { help: true } },
    { args: ["-h", "--rounds", "x"], want: { help: true } },
    { args: ["--rounds", "x"], want: { error: "--rounds needs a number, got \"x\"" } },
    { args: ["--rounds", ""], want: { error: "--rounds needs a number, got \"\"" } },
  ];
  for (const { args, want } of cases) {
    assert.deepEqual(parseToolArgs(args, kinds), want, args.join(" "));
  }
  const unknown = parseToolArgs(["--roudns", "3"], kinds);
  assert.ok("error" in unknown && unknown.error.includes("--roudns"), JSON.stringify(unknown));
  const missing = parseToolArgs(["--rounds"], kinds);
  assert.ok("error" in missing && missing.error.includes("--rounds"), JSON.stringify(missing));
});

test("a bench tool given an unknown flag exits 2 with its usage, before starting any server", () => {
  const micro = fileURLToPath(new URL("../../bench/webhook-micro.ts", import.meta.url));
  const r = spawnSync(process.execPath, [micro, "--calsl", "10"], { encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^webhook-micro: .*--calsl.*\nusage: node bench\/webhook-micro\.ts/s);
  const ab = fileURLToPath(new URL("../../bench/webhook-ab.ts", import.meta.url));
  const none = spawnSync(process.execPath, [ab], { encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" });
  assert.equal(none.status, 2, none.stderr);
  assert.match(none.stderr, /^webhook-ab: name at least one server kind\nusage:/);
});

test("boolean options are flags: given or not, never a value", () => {
  const kinds = { quick: "boolean", rounds: "number" } as const;
  const on = parseToolArgs(["--quick", "--rounds", "3"], kinds);
  assert.ok(!("error" in on) && !on.help && on.values["quick"] === true && on.values["rounds"] === 3, JSON.stringify(on));
  const off = parseToolArgs([], kinds);
  assert.ok(!("error" in off) && !off.help && off.values["quick"] === false, JSON.stringify(off));
  const valued = parseToolArgs(["--quick=yes"], kinds);
  assert.ok("error" in valued && valued.error.includes("--quick"), JSON.stringify(valued));
});

test("a benchmark given --help prints its usage, and an unknown flag or a stray argument exits 2 before measuring anything", () => {
  const bench = fileURLToPath(new URL("../../bench/sidecar-cost.ts", import.meta.url));
  const help = spawnSync(process.execPath, [bench, "--help"], { encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^usage: node bench\/sidecar-cost\.ts \[--quick\] \[--write\]/);
  for (const bad of [["--quikc"], ["quick"]]) {
    const r = spawnSync(process.execPath, [bench, ...bad], { encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" });
    assert.equal(r.status, 2, `${bad.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, new RegExp(`^bench sidecar-cost: .*${bad[0]}.*\\nusage: node bench/sidecar-cost\\.ts`, "s"));
  }
});

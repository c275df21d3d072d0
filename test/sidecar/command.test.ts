// `tailcar sidecar` as a command: --help and docs/sidecar.md list every setting, bad settings
// exit 2 naming the problem, and --format json goes through the same pipeline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SIDECAR_ROWS } from "../../settings/sidecar-rows.ts";
import { CLI, startSidecar, tempDir, waitForLines, waitUntilFollowing } from "./harness.ts";

function cli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, "sidecar", ...args], { encoding: "utf8", timeout: 10_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test("--help lists every setting with its flag and environment variable, and exits 0", () => {
  const r = cli(["--help"]);
  assert.equal(r.status, 0);
  for (const s of SIDECAR_ROWS) {
    assert.ok(r.stdout.includes(`${s.flag} `), `--help names ${s.flag}`);
    assert.ok(r.stdout.includes(`env ${s.env}\n`), `--help names ${s.env}`);
    assert.ok(r.stdout.includes(s.help), `--help says what ${s.flag} means, as its row does`);
  }
});

test("docs/sidecar.md documents every setting (flag and environment variable)", () => {
  const doc = readFileSync(new URL("../../docs/sidecar.md", import.meta.url), "utf8");
  for (const s of SIDECAR_ROWS) assert.ok(doc.includes(`| \`${s.flag}\` | \`${s.env}\` |`), `docs/sidecar.md has a row for ${s.flag} / ${s.env}`);
});

test("bad settings exit 2 with a message naming the problem, on stderr only", () => {
  const cases: [string[], RegExp][] = [
    [[], /no file to follow/],
    [["--file", "x", "--bogus"], /unknown option "--bogus"/],
    [["--file", "x", "--partial-flush", "soon"], /--partial-flush: "soon" is not a duration/],
    [["--file", "x", "--from", "middle"], /--from: "middle" is not one of start, end/],
    [["--file", "x", "--fromm", "end"], /unknown option "--fromm": did you mean --from\?/],
    [["--file", "x", "--multiline", "java"], /--multiline needs --format json/],
    [["--file", "x", "--sink", "loki"], /--sink loki needs --endpoint URL/],
    [["--file", "x", "--reclaim", "64Mi"], /--reclaim needs --checkpoint-dir/],
    [["--file", "x", "--checkpoint-dir", "d", "--reclaim", "64Ki"], /--reclaim 64Ki: at least 1Mi/],
  ];
  for (const [args, message] of cases) {
    const r = cli(args);
    assert.equal(r.status, 2, `exit 2 for ${args.join(" ")}`);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, "", "nothing on stdout");
  }
});

test("a bad value from the environment is named by its variable, as the webhook wrote it", () => {
  const r = cli(["--file", "x"], { TAILCAR_FROM: "middle", TAILCAR_POLL_INTERVAL: "250" });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^tailcar sidecar: TAILCAR_FROM: "middle" is not one of start, end\n$/);
});

test("--format json writes one JSON object per line with the file and the line, and checkpoints after them", { timeout: 20_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const cp = join(dir, "cp");
  writeFileSync(file, 'plain\nwith "quotes" and \\ backslash\n');
  const sidecar = startSidecar(t, ["--file", file, "--format", "json", "--checkpoint-dir", cp], { TAILCAR_POD_NAME: "web-1" });
  await waitForLines(sidecar, 2, 5000);
  assert.equal(await sidecar.stop(), 0);
  const records = sidecar.stdout().toString().trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(records.map((r) => r.log), ["plain", 'with "quotes" and \\ backslash']);
  assert.ok(records.every((r) => r.file === file && r.pod === "web-1" && typeof r.time === "string"), JSON.stringify(records));
  const again = startSidecar(t, ["--file", file, "--format", "json", "--checkpoint-dir", cp]);
  // Stopped only once it has resumed (its SIGTERM handler is in place by then), and given time to
  // write what it wrongly thought unsent: a fixed sleep alone raced the start-up under load.
  await waitUntilFollowing(again);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await again.stop(), 0);
  assert.equal(again.stdout().length, 0, "a restart after SIGTERM writes nothing again");
});

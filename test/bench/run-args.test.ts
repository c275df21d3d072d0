// `npm run bench` runs for minutes, so a mistyped argument must stop it at once with the usage,
// not start a full run (as it used to).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const RUN = fileURLToPath(new URL("../../bench/run.ts", import.meta.url));
const bench = (...args: string[]) => spawnSync(process.execPath, [RUN, ...args], { encoding: "utf8", timeout: 20_000, killSignal: "SIGKILL" });

test("bench --help prints the usage and exits 0 without running anything", () => {
  const r = bench("--help");
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^usage: npm run bench/);
  assert.doesNotMatch(r.stderr, /\[bench\]/);
});

test("an unknown argument, or --only without a known name, is a usage error (exit 2) naming it", () => {
  const unknown = bench("--qiuck");
  assert.equal(unknown.status, 2, unknown.stderr);
  assert.match(unknown.stderr, /^bench: unknown argument "--qiuck"\nusage:/);
  const bare = bench("--only");
  assert.equal(bare.status, 2, bare.stderr);
  assert.match(bare.stderr, /^bench: --only needs a benchmark's name; one of sidecar, webhook/);
  const wrong = bench("--only", "sidecars");
  assert.equal(wrong.status, 2, wrong.stderr);
  assert.match(wrong.stderr, /^bench: --only "sidecars": no such benchmark; one of sidecar, webhook/);
});

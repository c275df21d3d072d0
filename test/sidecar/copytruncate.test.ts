// copytruncate: lines written between the copy and the truncate are lost by design. The sidecar
// must never double a line, must keep order, and must count every truncation so each loss shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { checkSequence, describe, fragments, parseNumbers, scrape, startSidecar, startWriter, tempDir, until, waitForLines, waitUntilFollowing, type Sidecar } from "./harness.ts";

async function settle(sidecar: Sidecar, expectedLast: number): Promise<void> {
  // The last number is always written after the last truncation, so it must arrive.
  await until(() => sidecar.stdout().includes(`\n${expectedLast}.\n`), 20_000, () => {
    const out = sidecar.stdout();
    return `line ${expectedLast} on stdout (last line now: ${JSON.stringify(out.subarray(Math.max(0, out.length - 20)).toString())}); stderr: ${sidecar.stderr().slice(-1500)}`;
  });
}

async function checkNoDuplicatesAndLossCounted(sidecar: Sidecar, count: number, truncationsDone: number): Promise<string> {
  const port = sidecar.metricsPort();
  assert.ok(port, "metrics port announced on stderr");
  const truncations = await scrape(port, "tailcar_sidecar_truncations_total");
  const lowerBound = await scrape(port, "tailcar_sidecar_copytruncate_lost_bytes_total");
  assert.equal(await sidecar.stop(), 0);
  // A line cut by the truncation (its start read, its end written between copy and truncate) is
  // written as far as it got: at most one such fragment per truncation.
  const cut = fragments(sidecar.stdout());
  assert.ok(cut.length <= truncations, `${cut.length} cut lines for ${truncations} truncations: ${cut.slice(0, 5).join(", ")}`);
  const r = checkSequence(parseNumbers(sidecar.stdout(), { skipFragments: true }), count);
  assert.deepEqual(r.duplicates.slice(0, 5), [], `no line doubled: ${describe(r)}`);
  assert.equal(r.firstDisorder, undefined, `order kept: ${describe(r)}`);
  assert.equal(truncations, truncationsDone, "every truncation is counted");
  // Each truncation can lose at most one run of lines: the ones written between copy and truncate.
  assert.ok(r.gaps <= truncations, `${r.gaps} runs of lost lines but only ${truncations} truncations counted: ${describe(r)}`);
  const lostBytes = r.missing.reduce((sum, n) => sum + String(n).length + 2, 0);
  assert.ok(lowerBound <= lostBytes, `metric lower bound ${lowerBound} B exceeds the ${lostBytes} B actually lost`);
  return `${truncations} truncations, ${cut.length} cut lines, ${r.missing.length} lines lost in ${r.gaps} runs (${lostBytes} B; metric lower bound ${lowerBound} B)`;
}

test("logrotate copytruncate under a 50,000 lines/s writer doubles nothing and counts each truncation", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  const conf = join(dir, "logrotate.conf");
  writeFileSync(conf, `${file} {\n  copytruncate\n  rotate 100\n  missingok\n  nocompress\n}\n`);
  writeFileSync(file, "");
  const sidecar = startSidecar(t, ["--file", file, "--metrics-port", "0"]);
  await waitUntilFollowing(sidecar);
  const count = 150_000;
  const writer = startWriter(t, file, { count, rate: 50_000, batch: 250 });
  await until(() => statSync(file).size > 0, 5000, "the writer to start");
  const rounds = 6;
  for (let i = 0; i < rounds; i++) {
    await sleep(300);
    execFileSync("logrotate", ["-f", "-s", join(dir, "state"), conf]);
  }
  assert.equal(await writer.done, count);
  await settle(sidecar, count);
  t.diagnostic(await checkNoDuplicatesAndLossCounted(sidecar, count, rounds));
});

test("copy then truncate by hand, 10 times under a writer, doubles nothing and counts each truncation", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "app.log");
  writeFileSync(file, "");
  const sidecar = startSidecar(t, ["--file", file, "--metrics-port", "0"]);
  await waitUntilFollowing(sidecar);
  const count = 100_000;
  const writer = startWriter(t, file, { count, rate: 50_000, batch: 100 });
  await until(() => statSync(file).size > 0, 5000, "the writer to start");
  const rounds = 10;
  for (let i = 1; i <= rounds; i++) {
    await sleep(150);
    copyFileSync(file, `${file}.${i}`);
    truncateSync(file, 0);
  }
  assert.equal(await writer.done, count);
  await settle(sidecar, count);
  await waitForLines(sidecar, 1, 1000);
  t.diagnostic(await checkNoDuplicatesAndLossCounted(sidecar, count, rounds));
});

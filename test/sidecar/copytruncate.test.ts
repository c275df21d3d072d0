// copytruncate: lines written between the copy and the truncate are lost by design. The sidecar
// must never double a line, must keep order, and must count every truncation so each loss shows.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { appendFileSync, copyFileSync, existsSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { checkSequence, describe, fragments, lostBytes, parseNumbers, scrape, startSidecar, startWriter, tempDir, until, waitForLines, waitUntilFollowing, writerLines, type Sidecar } from "./harness.ts";

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
  const lost = lostBytes(sidecar.stdout(), count);
  assert.ok(lowerBound <= lost, `metric lower bound ${lowerBound} B exceeds the ${lost} B actually lost`);
  return `${truncations} truncations, ${cut.length} cut lines, ${r.missing.length} lines lost in ${r.gaps} runs (${lost} B; metric lower bound ${lowerBound} B)`;
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

for (const compress of [true, false]) {
  const how = compress ? "compress (the copy is gone at once): lines are lost" : "nocompress (the copy is read): nothing is lost";
  test(`logrotate copytruncate + ${how} while the sidecar is behind, and the lost-bytes metric equals the bytes missing from the output`, { timeout: 30_000 }, async (t) => {
    // The sidecar has read the first chunks of a 2.1 MB file and waits on a full stdout; logrotate
    // copies the file and truncates it, and with compress (no delaycompress) gzips the copy, so
    // the unread rest is in no file the sidecar reads. Nothing is written meanwhile: the loss is
    // exactly knowable (the size the sidecar saw less what it read, from the file or the copy).
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const conf = join(dir, "logrotate.conf");
    writeFileSync(conf, `${file} {\n  copytruncate\n  ${compress ? "compress" : "nocompress"}\n  rotate 5\n}\n`);
    const pad = 100;
    const count = 20_000;
    writeFileSync(file, writerLines(1, count, pad));
    const sidecar = startSidecar(t, ["--file", file, "--metrics-port", "0"]);
    sidecar.pauseOutput();
    await until(() => sidecar.metricsPort() !== undefined, 10_000, () => `the metrics port; stderr: ${sidecar.stderr()}`);
    const port = sidecar.metricsPort()!;
    await until(async () => (await scrape(port, "tailcar_sidecar_read_bytes_total")) > 0, 10_000, "the sidecar to read its first chunk");
    const size = statSync(file).size;
    const lag = await scrape(port, "tailcar_sidecar_lag_bytes");
    assert.ok(lag > size / 2, `the lag (${lag} B) shows the ${size} B file is mostly unread`);
    execFileSync("logrotate", ["-f", "-s", join(dir, "state"), conf]);
    assert.equal(existsSync(`${file}.1`), !compress, "the copy is there unless compressed");
    const after = 100;
    appendFileSync(file, writerLines(count + 1, count + after, pad));
    sidecar.resumeOutput();
    const last = writerLines(count + after, count + after, pad);
    await until(() => sidecar.stdout().toString("latin1").endsWith(last), 10_000, () => `the last line; stderr: ${sidecar.stderr()}`);
    const metric = await scrape(port, "tailcar_sidecar_copytruncate_lost_bytes_total");
    assert.equal(await sidecar.stop(), 0);
    const lost = lostBytes(sidecar.stdout(), count + after, pad);
    const r = checkSequence(parseNumbers(sidecar.stdout(), { skipFragments: true }), count + after);
    assert.equal(lost > 0, compress, `${compress ? "lines were lost" : "nothing was lost"}: ${describe(r)}`);
    assert.equal(metric, lost, `metric ${metric} B, ${lost} B lost (${r.missing.length} lines): ${describe(r)}`);
    t.diagnostic(`${r.missing.length} lines (${lost} B) lost; metric ${metric} B`);
  });
}

// Forwarding to a VictoriaLogs that requires basic auth (-httpAuth.*), with the credentials in the
// endpoint URL as a user writes them: every line arrives; a wrong password is one clear error, a
// metric, and no line lost (the checkpoint does not pass them) once the right one is given; and
// no output of the sidecar (stdout, stderr, /metrics) ever holds the password in any form.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { startVictoriaLogs } from "../../localcluster/backend/victorialogs.ts";
import {
  buildBackend, endpointFor, metricValue, missingNumbers, scrapeMetrics, startSidecar, tally, tempDir, waitForLines, writeNumbered,
  type Sidecar, type SinkKind,
} from "./forward-helpers.ts";

before(buildBackend.fn, buildBackend.options);

const USER = "tailcar";
// ":" and "@" must be percent-encoded in the URL and decoded for the header.
const PASSWORD = "Pa55:w@rd-right-9f3c";
const WRONG = "Pa55:w@rd-wrong-71ab";

const withCredentials = (url: string, password: string): string => url.replace("://", `://${USER}:${encodeURIComponent(password)}@`);

/** Every form a password could leak in: as given, as written in the URL, and as the header's token. */
function secretForms(password: string): string[] {
  return [password, encodeURIComponent(password), Buffer.from(`${USER}:${password}`).toString("base64")];
}

function assertNoSecret(output: string, passwords: readonly string[]): void {
  for (const password of passwords) {
    for (const form of secretForms(password)) assert.ok(!output.includes(form), `the output holds the password (as ${JSON.stringify(form)}):\n${output}`);
  }
}

const DENIED = "backend refused the credentials";

function authFailures(metrics: string, sink: SinkKind): number | undefined {
  return metricValue(metrics, `tailcar_sidecar_sink_auth_failures_total{sink="${sink}"}`);
}

/** Offsets in the checkpoints of `dir` (none saved yet: an empty list). */
function checkpointOffsets(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".json"))
    .map((f) => (JSON.parse(readFileSync(join(dir, f), "utf8")) as { offset: number }).offset);
}

function allOutput(sidecar: Sidecar, metrics: string): string {
  return `--- stdout\n${sidecar.stdout()}\n--- stderr\n${sidecar.stderr()}\n--- metrics\n${metrics}`;
}

for (const sink of ["elasticsearch", "loki", "otlp"] as const satisfies readonly SinkKind[]) {
  test(`${sink}: with basic auth on the backend and user:password@ in the endpoint, every line arrives once and no output holds the password`, { timeout: 90_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const vl = await startVictoriaLogs({ auth: { username: USER, password: PASSWORD } });
    t.after(() => vl.dispose());
    const reader = withCredentials(vl.url, PASSWORD);
    const tag = `auth-${sink}`;
    const n = 20_000;
    writeNumbered(file, tag, 0, n);
    const sidecar = startSidecar(t, [
      "--file", file,
      "--sink", sink,
      "--endpoint", withCredentials(endpointFor(sink, vl.url), PASSWORD),
      "--checkpoint-dir", join(dir, "cp"),
      "--poll-interval", "50ms",
      "--metrics-port", "0",
    ]);
    const got = await waitForLines(reader, n, 60_000);
    if (got.distinct !== n) assert.fail(`${n - got.distinct} lines missing; first: ${(await missingNumbers(reader, tag, n)).join(", ")}\n${sidecar.stderr()}`);
    assert.equal(got.total, n, `${got.total - n} lines stored twice`);
    const metrics = await scrapeMetrics(sidecar);
    assert.equal(authFailures(metrics, sink), 0, metrics);
    assert.ok((metricValue(metrics, `tailcar_sidecar_sink_requests_total{sink="${sink}"}`) ?? 0) > 0, metrics);
    assert.equal(await sidecar.stop(), 0, sidecar.stderr());
    const output = allOutput(sidecar, metrics);
    assert.match(sidecar.stderr(), new RegExp(`"forwarding stopped".*"url":"http://${USER}:\\*\\*\\*@127\\.0\\.0\\.1:`), "the summary names the endpoint, password redacted");
    assertNoSecret(output, [PASSWORD]);
  });

  test(`${sink}: a wrong password is one error line and a metric, nothing is acknowledged, and the right password later delivers every line once`, { timeout: 90_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const cp = join(dir, "cp");
    const vl = await startVictoriaLogs({ auth: { username: USER, password: PASSWORD } });
    t.after(() => vl.dispose());
    const reader = withCredentials(vl.url, PASSWORD);
    const tag = `denied-${sink}`;
    writeNumbered(file, tag, 0, 10_000);
    const args = (password: string): string[] => [
      "--file", file,
      "--sink", sink,
      "--endpoint", withCredentials(endpointFor(sink, vl.url), password),
      "--checkpoint-dir", cp,
      "--checkpoint-interval", "100ms",
      "--drain-timeout", "1s",
      "--poll-interval", "50ms",
      "--metrics-port", "0",
    ];
    const wrong = startSidecar(t, args(WRONG));
    // Retries from 0.25 s doubling: wait for several refusals, then look at what was said.
    let metrics = "";
    for (let i = 0; i < 200; i++) {
      metrics = await scrapeMetrics(wrong);
      if ((authFailures(metrics, sink) ?? 0) >= 4) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const failures = authFailures(metrics, sink) ?? 0;
    assert.ok(failures >= 4, `auth failures counted: ${failures}\n${metrics}`);
    const errors = wrong.stderr().split("\n").filter((l) => l.includes(DENIED));
    assert.equal(errors.length, 1, `${failures} refusals should give one error line:\n${wrong.stderr()}`);
    const error = JSON.parse(errors[0]!) as Record<string, unknown>;
    assert.deepEqual([error.level, error.status, error.sink], ["error", 401, sink]);
    assert.match(String(error.url), new RegExp(`^http://${USER}:\\*\\*\\*@127\\.0\\.0\\.1:`));
    assert.ok(!/backend did not accept lines/.test(wrong.stderr()), "a refusal is not reported as an outage");
    assert.equal((await tally(reader)).total, 0, "the backend stored nothing");
    assert.equal(await wrong.stop(), 0, wrong.stderr());
    assert.deepEqual(checkpointOffsets(cp).filter((o) => o !== 0), [], "the checkpoint did not pass a refused line");
    const wrongOutput = allOutput(wrong, metrics);

    writeNumbered(file, tag, 10_000, 15_000);
    const right = startSidecar(t, args(PASSWORD));
    const got = await waitForLines(reader, 15_000, 60_000);
    if (got.distinct !== 15_000) assert.fail(`${15_000 - got.distinct} lines missing; first: ${(await missingNumbers(reader, tag, 15_000)).join(", ")}\n${right.stderr()}`);
    assert.equal(got.total, 15_000, `${got.total - 15_000} lines stored twice`);
    const rightMetrics = await scrapeMetrics(right);
    assert.equal(authFailures(rightMetrics, sink), 0);
    assert.equal(await right.stop(), 0, right.stderr());
    t.diagnostic(`${sink}: ${failures} refusals, one error line; after the fix ${got.total} stored, ${got.distinct} distinct`);
    assertNoSecret(`${wrongOutput}\n${allOutput(right, rightMetrics)}`, [PASSWORD, WRONG]);
  });
}

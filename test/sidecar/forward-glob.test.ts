// A glob's files forwarded to a real VictoriaLogs through each output: every line once, each carrying
// the path of the file it came from (file for _bulk and Loki, log.file.path for OTLP).
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import { query, startVictoriaLogs } from "../../localcluster/backend/victorialogs.ts";
import { buildBackend, endpointFor, startSidecar, tempDir, waitForLines, writeNumbered, type SinkKind } from "./forward-helpers.ts";

before(buildBackend.fn, buildBackend.options);

const PER_FILE = 5_000;

for (const sink of ["elasticsearch", "loki", "otlp"] as const satisfies readonly SinkKind[]) {
  test(`${sink}: the lines of three files a glob matches (one made after start-up) arrive once each, with their file's path`, { timeout: 90_000 }, async (t) => {
    const dir = tempDir(t);
    const vl = await startVictoriaLogs();
    t.after(() => vl.dispose());
    const files = ["a.log", "b.log"].map((n) => join(dir, n));
    for (const f of files) writeNumbered(f, `glob-${sink}`, 0, PER_FILE);
    const sidecar = startSidecar(t, ["--file", `${dir}/*.log`, "--sink", sink, "--endpoint", endpointFor(sink, vl.url)]);
    // A third file appears while it runs.
    const late = join(dir, "c.log");
    writeNumbered(late, `glob-${sink}`, 0, PER_FILE);
    files.push(late);
    const got = await waitForLines(vl.url, PER_FILE, 60_000);
    assert.equal(got.total, 3 * PER_FILE, `stored ${got.total}; stderr: ${sidecar.stderr().slice(-1500)}`);
    const field = JSON.stringify(sink === "otlp" ? "log.file.path" : "file");
    const rows = await query(vl.url, `* | stats by (${field}) count() as n, count_uniq(_msg) as u`);
    const byFile = Object.fromEntries(rows.map((r) => [String(r[sink === "otlp" ? "log.file.path" : "file"]), `${r.n}/${r.u}`]));
    assert.deepEqual(byFile, Object.fromEntries(files.map((f) => [f, `${PER_FILE}/${PER_FILE}`])));
    assert.equal(await sidecar.stop(), 0);
  });
}

// The built sidecar forwards a file to a real VictoriaLogs through its Elasticsearch _bulk and Loki
// push APIs; what the backend then holds is counted line by line.
import assert from "node:assert/strict";
import { renameSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { query, startVictoriaLogs } from "../../localcluster/backend/victorialogs.ts";
import { buildBackend, endpointFor, missingNumbers, waitForFirstLine, startSidecar, tempDir, waitForLines, writeNumbered, type SinkKind } from "./forward-helpers.ts";

before(buildBackend.fn, buildBackend.options);

const N = 100_000;

for (const sink of ["elasticsearch", "loki"] as const satisfies readonly SinkKind[]) {
  test(`${sink}: 100,000 lines with a rotation in the middle arrive exactly once`, { timeout: 120_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const vl = await startVictoriaLogs();
    t.after(() => vl.dispose());
    const tag = `fwd-${sink}`;
    writeNumbered(file, tag, 0, N / 2);
    const started = Date.now();
    const sidecar = startSidecar(t, [
      "--file", file,
      "--sink", sink,
      "--endpoint", endpointFor(sink, vl.url),
      "--checkpoint-dir", join(dir, "cp"),
      "--poll-interval", "50ms",
    ]);
    // Rotate (rename + create) once the sidecar is sending the first half, before it is done.
    await waitForFirstLine(vl.url, 20_000);
    renameSync(file, `${file}.1`);
    writeNumbered(file, tag, N / 2, N);

    const got = await waitForLines(vl.url, N, 90_000);
    const seconds = (Date.now() - started) / 1000;
    t.diagnostic(`${sink}: ${got.total} stored, ${got.distinct} distinct, ${seconds.toFixed(1)} s (includes 1.5 s settle)`);
    if (got.distinct !== N) assert.fail(`${N - got.distinct} lines missing; first: ${(await missingNumbers(vl.url, tag, N)).join(", ")}`);
    assert.equal(got.total, N, `${got.total - N} lines stored twice`);

    // Time order is file order (strictly increasing timestamps), and every line carries its source.
    const rows = await query(vl.url, "* | sort by (_time) | fields _msg, _time, file, pod, namespace, container");
    assert.equal(rows.length, N);
    const outOfOrder = rows.findIndex((r, i) => r._msg !== `${tag} ${String(i).padStart(7, "0")}`);
    assert.equal(outOfOrder, -1, `line #${outOfOrder} in time order is ${JSON.stringify(rows[outOfOrder])}`);
    assert.deepEqual({ ...rows[0], _msg: undefined, _time: undefined }, { _msg: undefined, _time: undefined, file, pod: "app-1", namespace: "shop", container: "error-log" });
    assert.equal(await sidecar.stop(), 0, sidecar.stderr());
  });
}

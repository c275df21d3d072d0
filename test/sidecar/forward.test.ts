// The built sidecar forwards a file to a real VictoriaLogs through its Elasticsearch _bulk, Loki
// push and OpenTelemetry (OTLP/HTTP protobuf) APIs; what the backend then holds is counted line by
// line and queried by the fields each output gives it.
import assert from "node:assert/strict";
import { renameSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { query, startVictoriaLogs } from "../../localcluster/backend/victorialogs.ts";
import { buildBackend, endpointFor, missingNumbers, waitForFirstLine, startSidecar, tempDir, waitForLines, writeNumbered, type SinkKind } from "./forward-helpers.ts";

before(buildBackend.fn, buildBackend.options);

const N = 100_000;
const NODE = "node-a";

/** The fields VictoriaLogs stores for each output, besides _msg and _time. */
function expectedFields(sink: SinkKind, file: string): Record<string, string> {
  if (sink === "otlp") return { "k8s.namespace.name": "shop", "k8s.pod.name": "app-1", "k8s.container.name": "error-log", "k8s.node.name": NODE, "log.file.path": file };
  return { file, pod: "app-1", namespace: "shop", container: "error-log", node: NODE };
}

for (const sink of ["elasticsearch", "loki", "otlp"] as const satisfies readonly SinkKind[]) {
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
    ], { TAILCAR_NODE_NAME: NODE });
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
    const fields = expectedFields(sink, file);
    const names = Object.keys(fields).map((k) => JSON.stringify(k));
    const rows = await query(vl.url, `* | sort by (_time) | fields _msg, _time, ${names.join(", ")}`);
    assert.equal(rows.length, N);
    const outOfOrder = rows.findIndex((r, i) => r._msg !== `${tag} ${String(i).padStart(7, "0")}`);
    assert.equal(outOfOrder, -1, `line #${outOfOrder} in time order is ${JSON.stringify(rows[outOfOrder])}`);
    assert.deepEqual({ ...rows[0], _msg: undefined, _time: undefined }, { _msg: undefined, _time: undefined, ...fields });
    // Found by those fields: every line matches a query on all of them.
    const filter = Object.entries(fields).map(([k, v]) => `${JSON.stringify(k)}:=${JSON.stringify(v)}`).join(" ");
    const [byFields] = await query(vl.url, `${filter} | stats count() as n`);
    assert.equal(Number(byFields?.n), N, `query ${filter}`);
    assert.equal(await sidecar.stop(), 0, sidecar.stderr());
  });
}

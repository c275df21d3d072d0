// SIGKILL of a forwarding sidecar mid-stream, twice, at random points: the restart sends again the
// lines after its last checkpoint. They must be the same records as the first time (time, message,
// stream and every other field), so a backend that drops identical entries (Loki) drops them.
// VictoriaLogs stores them (it does not deduplicate: the copies are counted here), so the test
// counts distinct records: exactly one per line written. Elasticsearch's ids are checked too, by a
// proxy that reads every _bulk request on its way to VictoriaLogs. Both formats: raw lines, and
// --format json records with pod metadata and --multiline java (one record in ten a stack trace of
// three lines), whose own "time" field must be the same in every copy too.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { join } from "node:path";
import { before, test } from "node:test";
import { query, startVictoriaLogs } from "../../localcluster/backend/victorialogs.ts";
import { appendFileSync } from "node:fs";
import { body, buildBackend, copiesBy, endpointFor, missingNumbers, startSidecar, tally, tempDir, waitForLines, writeNumbered, type Sidecar, type SinkKind } from "./forward-helpers.ts";

before(buildBackend.fn, buildBackend.options);

const N = 50_000;
const PER_TICK = 500; // every 50 ms: 10,000 lines/s

/** JSON: N records, one in ten a three-line Java stack trace (55,000 lines). */
const TRACE_EVERY = 10;

/** Appends records [from, to) for --format json --multiline java: "<tag> <n>", or a trace of three lines for every tenth n. */
function writeRecords(path: string, tag: string, from: number, to: number): void {
  let text = "";
  for (let n = from; n < to; n++) {
    const id = `${tag} ${String(n).padStart(7, "0")}`;
    text += n % TRACE_EVERY === 0 ? `${id} java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:${n})\n\tat a.B.d(B.java:2)\n` : `${id}\n`;
  }
  appendFileSync(path, text);
}

/** What a JSON record's text is in a stored row: Loki push rows are unpacked (`log`), the others hold the record as _msg. */
function recordText(row: Record<string, string>): string {
  return row.log ?? (JSON.parse(row._msg!) as { log: string }).log;
}

/** A proxy to `target` that records, from each _bulk request, the _id given to each message. */
async function bulkRecorder(t: { after(fn: () => Promise<void>): void }, target: string, keyOf: (message: string) => string): Promise<{ url: string; ids: Map<string, Set<string>> }> {
  const ids = new Map<string, Set<string>>();
  const server = createServer((req, res) => {
    void body(req).then(async (b) => {
      const lines = b.toString("utf8").split("\n");
      for (let i = 0; i + 1 < lines.length; i += 2) {
        const action = JSON.parse(lines[i]!) as { create?: { _id?: string } };
        const doc = JSON.parse(lines[i + 1]!) as { message: string };
        const key = keyOf(doc.message);
        let set = ids.get(key);
        if (!set) ids.set(key, (set = new Set()));
        set.add(action.create?._id ?? "(none)");
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && (k === "content-type" || k.startsWith("vl-"))) headers[k] = v;
      const answer = await fetch(`${target}${req.url ?? "/"}`, { method: req.method ?? "POST", body: b, headers });
      res.writeHead(answer.status, { "Content-Type": answer.headers.get("content-type") ?? "text/plain" });
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`, ids };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until VictoriaLogs holds more than `than` lines (the sidecar is sending), bounded. */
async function waitForMore(url: string, than: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if ((await tally(url)).total > than) return;
    await sleep(25);
  }
  throw new Error(`no new line reached ${url} within ${timeoutMs} ms`);
}

/** One record as VictoriaLogs holds it, every field included, in a fixed key order. */
for (const format of ["raw", "json"] as const)
for (const sink of ["loki", "otlp", "elasticsearch"] as const satisfies readonly SinkKind[]) {
  const what = format === "raw" ? "lines" : "JSON records (multiline, pod metadata)";
  test(`${sink}, ${format}: after SIGKILLs mid-stream the ${what} sent again are identical records (same time, message and fields): one distinct record per ${format === "raw" ? "line" : "record"}`, { timeout: 150_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const vl = await startVictoriaLogs();
    t.after(() => vl.dispose());
    const json = format === "json";
    // What tells records apart: the line, or the JSON record's log (its time differs between copies when the replay is wrong).
    const keyOf = json ? (message: string): string => (JSON.parse(message) as { log: string }).log : (message: string): string => message;
    const rowKey = json ? recordText : (row: Record<string, string>): string => row._msg!;
    const field = json && sink === "loki" ? "log" : "_msg";
    const recorder = sink === "elasticsearch" ? await bulkRecorder(t, vl.url, keyOf) : undefined;
    const tag = `replay-${sink}`;
    const args = ["--file", file, "--sink", sink, "--endpoint", endpointFor(sink, recorder?.url ?? vl.url), "--checkpoint-dir", join(dir, "cp"), "--poll-interval", "50ms", ...(json ? ["--format", "json", "--multiline", "java"] : [])];
    const write = json ? writeRecords : writeNumbered;
    let written = 0;
    write(file, tag, 0, PER_TICK);
    written = PER_TICK;
    const writer = setInterval(() => {
      if (written >= N) return;
      write(file, tag, written, written + PER_TICK);
      written += PER_TICK;
    }, 50);
    t.after(() => clearInterval(writer));

    let sidecar: Sidecar = startSidecar(t, args, { TAILCAR_NODE_NAME: "node-a" });
    const kills: string[] = [];
    for (let k = 0; k < 2; k++) {
      await waitForMore(vl.url, (await tally(vl.url)).total, 30_000);
      const wait = 300 + Math.floor(Math.random() * 1200);
      await sleep(wait);
      sidecar.child.kill("SIGKILL");
      await sidecar.stop();
      kills.push(`${wait} ms after sending (${written} written, ${(await tally(vl.url)).total} stored)`);
      sidecar = startSidecar(t, args, { TAILCAR_NODE_NAME: "node-a" });
    }
    for (let i = 0; i < 1000 && written < N; i++) await sleep(50);
    clearInterval(writer);
    assert.equal(written, N, "the writer did not finish");

    const got = await waitForLines(vl.url, N, 90_000, undefined, field);
    assert.equal(await sidecar.stop(), 0, sidecar.stderr());
    if (got.distinct < N) assert.fail(`${N - got.distinct} lines missing; first: ${json ? "" : (await missingNumbers(vl.url, tag, N)).join(", ")}`);
    const rows = await query(vl.url, "*");
    assert.equal(rows.length, got.total);
    const byMessage = copiesBy(rows, rowKey);
    const differing = [...byMessage.entries()].filter(([, s]) => s.size > 1);
    const replayed = got.total - N;
    t.diagnostic(`${sink}, ${format}: kills ${kills.join("; ")}; ${got.total} stored for ${N} ${json ? "records" : "lines"}: ${replayed} sent again, ${differing.length} of them differing from their first copy`);
    // Vacuous without replays: the kills must have landed after lines the checkpoint had not passed.
    assert.ok(replayed > 0, "no line was sent again: the kills proved nothing");
    assert.equal(byMessage.size, N);
    if (differing.length > 0) {
      const [msg, copies] = differing[0]!;
      assert.fail(`${differing.length} lines were sent again as different records (a deduplicating backend would keep both); ${JSON.stringify(msg)}:\n${[...copies].join("\n")}`);
    }
    if (recorder) {
      const unstable = [...recorder.ids.entries()].filter(([, s]) => s.size > 1);
      assert.equal(recorder.ids.size, N, "the proxy saw every line");
      assert.deepEqual(unstable.slice(0, 3), [], `${unstable.length} lines were sent with different _ids`);
      const unnamed = [...recorder.ids.entries()].filter(([, s]) => s.has("(none)"));
      assert.deepEqual(unnamed.slice(0, 3), [], `${unnamed.length} records were sent without an _id (the backend chooses one: a resend is stored twice)`);
    }
  });
}

// A multiline record written by --multiline-timeout (the app paused mid-trace), the rest of the
// trace written after it, then a SIGKILL before any periodic checkpoint: the restart must group the
// lines as the first run did (the group as flushed, then the late lines as records of their own),
// or it sends a longer group that no backend can tell from a new record. The cut is saved in the
// checkpoint before the flushed group is sent (checkpoint.ts, `cut`). Likewise a trace longer than
// --max-line-bytes, written as parts: a checkpoint at the start of a later part says how the lines
// there were grouped (`continues`), or a restart makes each of its lines a record.
import assert from "node:assert/strict";
import { appendFileSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { checkpointFile } from "../../sidecar/checkpoint.ts";
import { query, startVictoriaLogs } from "../../localcluster/backend/victorialogs.ts";
import { buildBackend, copiesBy, endpointFor, startSidecar, tally, tempDir, waitForLines, type SinkKind } from "./forward-helpers.ts";

before(buildBackend.fn, buildBackend.options);

const GROUP = "java.lang.IllegalStateException: boom\n\tat a.B.c(B.java:1)";
const LATE = "\tat a.B.d(B.java:2)";

/** A JSON record's text as stored: Loki push rows are unpacked (`log`), the others hold the record as _msg. */
function recordText(row: Record<string, string>): string {
  return row.log ?? (JSON.parse(row._msg!) as { log: string }).log;
}

/** After the restart: something was sent again, the records are `expected`, and each was stored in one form only. */
async function assertSameRecords(t: { diagnostic(message: string): void }, sink: SinkKind, url: string, before: number, after: number, expected: readonly string[]): Promise<void> {
  const byText = copiesBy(await query(url, "*"), recordText);
  t.diagnostic(`${sink}: ${before} stored before the kill, ${after} after the restart; records: ${JSON.stringify([...byText.keys()])}`);
  assert.ok(after > before, "nothing was sent again: the kill proved nothing");
  assert.deepEqual([...byText.keys()].sort(), [...expected].sort(), "the restart grouped the lines otherwise than the first run");
  for (const [text, copies] of byText) assert.equal(copies.size, 1, `${JSON.stringify(text)} was sent again as a different record:\n${[...copies].join("\n")}`);
}

/** Polls until the backend holds at least `n` distinct records, bounded. */
async function waitForRecords(url: string, field: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    if ((await tally(url, undefined, field)).distinct >= n) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`fewer than ${n} records reached ${url} within ${timeoutMs} ms`);
}

for (const sink of ["loki", "otlp", "elasticsearch"] as const satisfies readonly SinkKind[]) {
  test(`${sink}: a group written on --multiline-timeout, the rest of its trace after it, SIGKILL: the restart sends the same records, not a longer group`, { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const vl = await startVictoriaLogs();
    t.after(() => vl.dispose());
    const field = sink === "loki" ? "log" : "_msg";
    // No periodic save within the test: the checkpoint holds what was saved ahead of sending.
    const args = ["--file", file, "--sink", sink, "--endpoint", endpointFor(sink, vl.url), "--checkpoint-dir", join(dir, "cp"), "--checkpoint-interval", "60s", "--poll-interval", "50ms", "--format", "json", "--multiline", "java", "--multiline-timeout", "300ms"];
    appendFileSync(file, `first\n${GROUP}\n`);
    let sidecar = startSidecar(t, args);
    await waitForRecords(vl.url, field, 2, 20_000); // "first", and the group after the timeout
    appendFileSync(file, `${LATE}\nlast\n`);
    await waitForRecords(vl.url, field, 4, 20_000);
    sidecar.child.kill("SIGKILL");
    await sidecar.stop();
    const before = (await tally(vl.url, undefined, field)).total;
    sidecar = startSidecar(t, args);
    const got = await waitForLines(vl.url, 4, 20_000, undefined, field);
    assert.equal(await sidecar.stop(), 0, sidecar.stderr());
    await assertSameRecords(t, sink, vl.url, before, got.total, ["first", GROUP, LATE, "last"]);
  });
}

/** The saved checkpoint's fields, or undefined while there is none. */
function savedCheckpoint(dir: string, file: string): { offset: number; continues?: string } | undefined {
  try {
    return JSON.parse(readFileSync(checkpointFile(dir, file), "utf8")) as { offset: number; continues?: string };
  } catch {
    return undefined;
  }
}

for (const sink of ["loki", "otlp", "elasticsearch"] as const satisfies readonly SinkKind[]) {
  test(`${sink}: a trace cut at --max-line-bytes, SIGKILL after a checkpoint at the start of a later part: the restart sends the same parts, not a record a line`, { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t);
    const file = join(dir, "app.log");
    const cpDir = join(dir, "cp");
    const vl = await startVictoriaLogs();
    t.after(() => vl.dispose());
    const field = sink === "loki" ? "log" : "_msg";
    const at = (n: number): string => `\tat a.B.c(B.java:${String(n).padStart(2, "0")})`; // 20 bytes with its newline
    // A part holds at most 64 bytes: "Error: x" and two frames, then three frames, then the rest.
    const args = ["--file", file, "--sink", sink, "--endpoint", endpointFor(sink, vl.url), "--checkpoint-dir", cpDir, "--checkpoint-interval", "5s", "--poll-interval", "50ms", "--format", "json", "--multiline", "java", "--multiline-timeout", "60s", "--max-line-bytes", "64"];
    const head = `first\nError: x\n${at(1)}\n${at(2)}\n`;
    appendFileSync(file, `${head}${at(3)}\n${at(4)}\n${at(5)}\n`);
    let sidecar = startSidecar(t, args);
    await waitForRecords(vl.url, field, 2, 20_000); // "first" and the first part; the second is held
    // Until a periodic save records the second part's start (and, with it, that a trace goes on there).
    const partStart = Buffer.byteLength(head);
    let cp = savedCheckpoint(cpDir, file);
    for (let i = 0; i < 300 && cp?.offset !== partStart; i++) {
      await new Promise((r) => setTimeout(r, 50));
      cp = savedCheckpoint(cpDir, file);
    }
    assert.equal(cp?.offset, partStart, `no checkpoint at the second part's start: ${JSON.stringify(cp)}`);
    appendFileSync(file, `${at(6)}\nnext\n`);
    await waitForRecords(vl.url, field, 5, 20_000); // the second part (cut again), the third, "next"
    sidecar.child.kill("SIGKILL");
    await sidecar.stop();
    // A new time anchor may have been saved ahead since (the same offset): a later offset would prove nothing.
    const last = savedCheckpoint(cpDir, file);
    assert.equal(last?.offset, partStart, "a save past the part's start came between: the kill proves nothing");
    const before = (await tally(vl.url, undefined, field)).total;
    sidecar = startSidecar(t, args);
    const got = await waitForLines(vl.url, 5, 20_000, undefined, field);
    assert.equal(await sidecar.stop(), 0, sidecar.stderr());
    await assertSameRecords(t, sink, vl.url, before, got.total, ["first", `Error: x\n${at(1)}\n${at(2)}`, `${at(3)}\n${at(4)}\n${at(5)}`, at(6), "next"]);
  });
}

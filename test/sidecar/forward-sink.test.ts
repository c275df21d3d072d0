// The network sink's retry rules over real HTTP. VictoriaLogs answers every _bulk item with 201,
// so the per-item answers of Elasticsearch (429, 409, 400 per document) come from a scripted
// server on 127.0.0.1 that records what it received; VictoriaLogs itself is in forward*.test.ts.
import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { test } from "node:test";
import { parseSidecarConfig } from "../../sidecar/config.ts";
import { SinkClosedError } from "../../sidecar/sink.ts";
import { createSink } from "../../sidecar/sinks/index.ts";

type Script = (docs: string[], res: ServerResponse, req: IncomingMessage) => void;

async function scriptedServer(t: { after(fn: () => Promise<void>): void }, script: Script): Promise<{ url: string; requests: string[][]; seen: { url: string; authorization?: string }[] }> {
  const requests: string[][] = [];
  const seen: { url: string; authorization?: string }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (d: Buffer) => (body += d.toString()));
    req.on("end", () => {
      const lines = body.split("\n").filter((l) => l.length > 0);
      const docs = lines.filter((_, i) => i % 2 === 1).map((l) => (JSON.parse(l) as { message: string }).message);
      requests.push(docs);
      seen.push({ url: req.url ?? "", ...(req.headers.authorization !== undefined && { authorization: req.headers.authorization }) });
      script(docs, res, req);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  const addr = server.address();
  return { url: `http://127.0.0.1:${typeof addr === "object" && addr ? addr.port : 0}`, requests, seen };
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(JSON.stringify(body));
}

const fast = { retry: { initialMs: 10, maxMs: 40, requestTimeoutMs: 5000 } };

function sinkFor(url: string, messages: string[]) {
  const config = parseSidecarConfig(["--file", "/var/log/a.log", "--sink", "elasticsearch", "--endpoint", url], {});
  return createSink(config, {}, { ...fast, emit: (level, msg, f) => messages.push(`${level} ${msg} ${JSON.stringify(f)}`) })!;
}

/** http://127.0.0.1:port → http://user:password@127.0.0.1:port */
const withCredentials = (url: string, user: string, password: string): string => url.replace("://", `://${encodeURIComponent(user)}:${encodeURIComponent(password)}@`);

const batch = (text: string, startOffset = 0) => ({ file: "/var/log/a.log", fileKey: "1:2:3", data: Buffer.from(text), startOffset });

test("_bulk: only the items that failed transiently are sent again; 409 counts as already stored", async (t) => {
  let round = 0;
  const srv = await scriptedServer(t, (docs, res) => {
    round++;
    if (round === 1) {
      // a: stored, b: already there, c: 429, d: 503
      reply(res, 200, { errors: true, items: [{ create: { status: 201 } }, { create: { status: 409 } }, { create: { status: 429, error: { type: "rejected", reason: "queue full" } } }, { create: { status: 503 } }] });
    } else reply(res, 200, { errors: false, items: docs.map(() => ({ create: { status: 201 } })) });
  });
  const messages: string[] = [];
  const sink = sinkFor(srv.url, messages);
  await sink.write(batch("a\nb\nc\nd\n"));
  assert.deepEqual(srv.requests, [["a", "b", "c", "d"], ["c", "d"]]);
  assert.equal(sink.stats.linesAcked, 4);
  assert.equal(sink.stats.duplicatesAbsorbed, 1);
  assert.equal(messages.length, 2, messages.join("\n"));
  assert.match(messages[0]!, /"status":429,"reason":"rejected: queue full","lines":2/);
  assert.match(messages[1]!, /backend accepts again/);
});

test("_bulk: a document the backend rejects is dropped, counted and reported, and the rest go on", async (t) => {
  const srv = await scriptedServer(t, (docs, res) =>
    reply(res, 200, { errors: true, items: docs.map((d) => (d === "bad" ? { create: { status: 400, error: { type: "mapper_parsing_exception", reason: "bad" } } } : { create: { status: 201 } })) }),
  );
  const messages: string[] = [];
  const sink = sinkFor(srv.url, messages);
  await sink.write(batch("ok1\nbad\nok2\n"));
  assert.deepEqual(srv.requests, [["ok1", "bad", "ok2"]]);
  assert.deepEqual([sink.stats.linesAcked, sink.stats.linesDropped], [2, 1]);
  assert.match(messages.join("\n"), /error backend rejected lines; dropped .*"lines":1,"status":400,"reason":"mapper_parsing_exception: bad"/);
});

test("a whole request rejected with 400 is split in halves until the bad line is alone, then only it is dropped", async (t) => {
  const srv = await scriptedServer(t, (docs, res) => (docs.includes("poison") ? reply(res, 400, { error: "cannot parse" }) : reply(res, 200, { errors: false })));
  const sink = sinkFor(srv.url, []);
  await sink.write(batch("1\n2\n3\npoison\n5\n6\n7\n8\n"));
  const stored = srv.requests.filter((r) => !r.includes("poison")).flat();
  assert.deepEqual(stored, ["1", "2", "3", "5", "6", "7", "8"], "every good line once, in order");
  assert.deepEqual([sink.stats.linesAcked, sink.stats.linesDropped], [7, 1]);
  assert.ok(srv.requests.length <= 7, `${srv.requests.length} requests for 8 lines`);
});

test("writes are acknowledged in order, batched while a request is in flight", async (t) => {
  let release: (() => void) | undefined;
  const srv = await scriptedServer(t, (_docs, res) => {
    const answer = () => reply(res, 200, { errors: false });
    if (release === undefined) release = answer; // hold the first request until the test lets go
    else answer();
  });
  const sink = sinkFor(srv.url, []);
  const order: number[] = [];
  const writes = [0, 1, 2, 3].map((i) => sink.write(batch(`w${i}\n`, i * 3)).then(() => order.push(i)));
  for (let i = 0; i < 200 && release === undefined; i++) await new Promise((r) => setTimeout(r, 10));
  release!();
  await Promise.all(writes);
  assert.deepEqual(order, [0, 1, 2, 3]);
  assert.deepEqual(srv.requests, [["w0"], ["w1", "w2", "w3"]], "the writes queued behind the first request go out as one batch");
});

test("close() rejects the write that is still being retried with SinkClosedError", async (t) => {
  const srv = await scriptedServer(t, (_docs, res) => reply(res, 503, { error: "down" }));
  const sink = sinkFor(srv.url, []);
  const pending = sink.write(batch("x\n"));
  for (let i = 0; i < 200 && srv.requests.length < 2; i++) await new Promise((r) => setTimeout(r, 10));
  sink.close();
  await assert.rejects(pending, SinkClosedError);
  await assert.rejects(sink.write(batch("y\n")), SinkClosedError);
});

const SECRET = "p@ss:w0rd-Secret";
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

test("credentials in the endpoint are sent as a basic-auth header to the URL without them, and no message shows the password", { timeout: 10_000 }, async (t) => {
  const srv = await scriptedServer(t, (docs, res, req) =>
    req.headers.authorization === basic("elastic", SECRET) ? reply(res, 200, { errors: false }) : reply(res, 401, { error: "unauthorized" }),
  );
  const messages: string[] = [];
  const sink = sinkFor(withCredentials(srv.url, "elastic", SECRET), messages);
  t.after(() => sink.close());
  await sink.write(batch("one\ntwo\n"));
  sink.close();
  assert.deepEqual(srv.seen, [{ url: "/_bulk", authorization: basic("elastic", SECRET) }]);
  assert.equal(sink.stats.linesAcked, 2);
  const out = messages.join("\n");
  assert.match(out, /"url":"http:\/\/elastic:\*\*\*@127\.0\.0\.1:\d+\/_bulk"/, "the summary shows the URL with the password redacted");
  for (const form of [SECRET, encodeURIComponent(SECRET), basic("elastic", SECRET)]) assert.ok(!out.includes(form), `the messages hold ${form}:\n${out}`);
});

test("401: one error line per period however often it is retried, counted, nothing acknowledged, and every line delivered once the password is accepted", { timeout: 10_000 }, async (t) => {
  let accept = false;
  const srv = await scriptedServer(t, (_docs, res) => (accept ? reply(res, 200, { errors: false }) : reply(res, 401, { error: "unauthorized" })));
  const messages: string[] = [];
  const sink = sinkFor(withCredentials(srv.url, "elastic", "wrong-" + SECRET), messages);
  t.after(() => sink.close());
  let acked = false;
  const pending = sink.write(batch("a\nb\nc\n")).then(() => (acked = true));
  // Counted when the sink has read the answer, which is after the server saw the request.
  for (let i = 0; i < 500 && sink.stats.authFailures < 8; i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(sink.stats.authFailures >= 8, `authFailures ${sink.stats.authFailures} after ${srv.requests.length} requests`);
  assert.equal(acked, false, "a refused write is not acknowledged (so the checkpoint does not pass it)");
  assert.equal(sink.stats.linesDropped, 0);
  const errors = messages.filter((m) => m.startsWith("error "));
  assert.equal(errors.length, 1, messages.join("\n"));
  assert.match(errors[0]!, /backend refused the credentials .*"status":401/);
  assert.equal(messages.length, 1, "no warning per retry beside the error");
  accept = true;
  await pending;
  assert.equal(sink.stats.linesAcked, 3);
  assert.deepEqual(srv.requests.at(-1), ["a", "b", "c"]);
  assert.match(messages.at(-1)!, /backend accepts again/);
  assert.ok(!messages.join("\n").includes(SECRET));
});

test("_bulk: items refused with 403 (no rights on the index) are retried, not dropped", { timeout: 10_000 }, async (t) => {
  let round = 0;
  const srv = await scriptedServer(t, (docs, res) => {
    round++;
    if (round === 1) reply(res, 200, { errors: true, items: [{ create: { status: 201 } }, { create: { status: 403, error: { type: "security_exception", reason: "action [indices:data/write/bulk] is unauthorized" } } }] });
    else reply(res, 200, { errors: false, items: docs.map(() => ({ create: { status: 201 } })) });
  });
  const messages: string[] = [];
  const sink = sinkFor(srv.url, messages);
  t.after(() => sink.close());
  await sink.write(batch("x\ny\n"));
  assert.deepEqual(srv.requests, [["x", "y"], ["y"]]);
  assert.deepEqual([sink.stats.linesAcked, sink.stats.linesDropped, sink.stats.authFailures], [2, 0, 1]);
  assert.match(messages[0]!, /^error backend refused the credentials .*security_exception/);
});

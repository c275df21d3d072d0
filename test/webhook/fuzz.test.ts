// Bounded fuzz of POST /mutate over real HTTPS: whatever arrives, body and headers, the answer is a
// 200, a 400, a 413 or a 415 within the per-request timeout, never a 5xx, and the server still
// answers afterwards. Each run takes a new seed, printed first; TAILCAR_FUZZ_SEED=N replays one.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Agent } from "node:https";
import { brotliCompressSync, deflateSync, gzipSync } from "node:zlib";
import fc from "fast-check";
import { DEFAULT_INJECT_OPTIONS } from "./default-options.ts";
import { call, podCreate, startTestServer, type TestServer } from "./https-helpers.ts";

const SEED = process.env["TAILCAR_FUZZ_SEED"] !== undefined ? Number(process.env["TAILCAR_FUZZ_SEED"]) : Math.floor(Math.random() * 2 ** 31);
process.stdout.write(`# fuzz seed ${SEED} (replay with TAILCAR_FUZZ_SEED=${SEED})\n`);
const ALLOWED = new Set([200, 400, 413, 415]);

const application = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "application", labels: { app: "x" }, annotations: { "tailcar.io/files": "/var/log/error.log,/var/log/access.log" } },
  spec: {
    securityContext: { runAsUser: 1000, fsGroup: 2000 },
    initContainers: [{ name: "init", image: "busybox" }],
    containers: [{ name: "app", image: "busybox", volumeMounts: [{ name: "varlog", mountPath: "/var/log" }] }],
    volumes: [{ name: "varlog", emptyDir: {} }],
  },
};
const valid = podCreate("fuzz", application, { namespace: "ns", userInfo: { username: "u" } });

let s: TestServer;
let agent: Agent;
before(async () => {
  s = await startTestServer({ ...DEFAULT_INJECT_OPTIONS, sidecarMode: "native" });
  agent = new Agent({ keepAlive: true, maxSockets: 4 });
});
after(async () => {
  agent.destroy();
  await s.close();
});

async function send(body: string | Buffer, headers: Record<string, string> = {}): Promise<void> {
  const reply = await call(s.port, s.ca, "POST", "/mutate", body, { agent, timeoutMs: 5000, headers });
  assert.ok(ALLOWED.has(reply.status), `HTTP ${reply.status} for ${JSON.stringify(headers)} ${String(body).slice(0, 200)}: ${reply.text.slice(0, 300)}`);
  if (reply.status !== 200) assert.equal(typeof reply.json<{ error: unknown }>().error, "string", "a 4xx explains itself");
}

/** Every JSON path of a value, as key lists. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== "object" || value === null) return [prefix];
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((v, i) => [i, v]) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => paths(v, [...prefix, k]))];
}

function replaced(value: unknown, path: readonly (string | number)[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path;
  const copy = (Array.isArray(value) ? [...value] : { ...(value as object) }) as Record<string | number, unknown>;
  copy[head!] = replaced(copy[head!], rest, replacement);
  return copy;
}

const params = { seed: SEED, numRuns: 150, endOnFailure: true };

test("random bytes get 200/400, never a 5xx", { timeout: 60_000 }, async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4096 }), async (bytes) => send(Buffer.from(bytes))), params);
});

test("truncated valid reviews get 200/400", { timeout: 60_000 }, async () => {
  const text = JSON.stringify(valid);
  await fc.assert(fc.asyncProperty(fc.integer({ min: 0, max: text.length }), async (n) => send(text.slice(0, n))), params);
});

const allPaths = paths(valid);
test(`a wrong type in any of the ${allPaths.length} fields of a valid review gets 200/400`, { timeout: 60_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...allPaths), fc.jsonValue({ maxDepth: 3 }), async (path, value) => send(JSON.stringify(replaced(valid, path, value)))),
    { ...params, numRuns: 400 },
  );
});

// A Map, not an object: a random encoding can be "__proto__" or "constructor".
const CODECS = new Map<string, (b: Buffer) => Buffer>([["gzip", gzipSync], ["deflate", deflateSync], ["br", brotliCompressSync]]);
const encodings = fc.oneof(
  fc.constantFrom("gzip", "deflate", "br", "zstd", "identity", "GZIP", "gzip, br", "compress", "x-unknown", ""),
  fc.stringMatching(/^[a-z0-9!#$%&'*+.^_`|~-]{1,20}$/),
);
const types = fc.oneof(
  fc.constantFrom("application/json", "application/json; charset=utf-8", "application/json; charset=\"UTF-8\"", "text/plain", "application/json; charset=latin1", "application/json; charset=utf-16", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"),
  fc.stringMatching(/^[a-z]{1,10}\/[a-z+.-]{1,15}(; charset=[a-z0-9-]{1,10})?$/),
);
const bodies = fc.oneof(fc.constant(Buffer.from(JSON.stringify(valid))), fc.uint8Array({ maxLength: 2048 }).map((b) => Buffer.from(b)));
test("random Content-Encoding, Content-Type and Transfer-Encoding headers, on plain and on encoded bodies, get 200/400/413/415", { timeout: 60_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(bodies, fc.option(encodings), fc.option(types), fc.boolean(), fc.boolean(), async (body, encoding, type, chunked, encode) => {
      const codec = encoding === null ? undefined : CODECS.get(encoding);
      const headers: Record<string, string> = {
        ...(encoding !== null && { "content-encoding": encoding }),
        ...(type !== null && { "content-type": type }),
        ...(chunked && { "transfer-encoding": "chunked" }),
      };
      await send(encode && codec !== undefined ? codec(body) : body, headers);
    }),
    { ...params, numRuns: 300 },
  );
});

test("deep nesting, in the body and inside the pod, gets an answer", { timeout: 60_000 }, async () => {
  for (const depth of [1000, 100_000, 1_000_000]) {
    await send(`${"[".repeat(depth)}${"]".repeat(depth)}`);
    await send(`${'{"a":'.repeat(Math.min(depth, 500_000))}1${"}".repeat(Math.min(depth, 500_000))}`);
    // Built as text: JSON.stringify itself would overflow the stack on such an object.
    const d = Math.min(depth, 200_000);
    const nested = `${'{"n":'.repeat(d)}"leaf"${"}".repeat(d)}`;
    const pod = { ...application, metadata: { ...application.metadata, deep: "@DEEP@" }, spec: { ...application.spec, deep: "@DEEP@" } };
    await send(JSON.stringify(podCreate("deep", pod, { namespace: "ns" })).replaceAll('"@DEEP@"', nested));
  }
});

test("after the fuzz the server still answers /healthz and has counted no 5xx", async () => {
  assert.equal((await call(s.port, s.ca, "GET", "/healthz")).status, 200);
  assert.equal(s.logs.filter((l) => typeof l["status"] === "number" && (l["status"] as number) >= 500).length, 0);
});

// The HTTPS server's documented limits, over real sockets: slow senders are cut off at the headers
// and request timeouts (not up to 30 s later, at node's default check interval), the defaults are
// the documented 10 s and 30 s, a chunked body over the limit gets a 413 that says so, and TLS 1.2
// takes only ECDHE with an AEAD cipher.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { connect, type TLSSocket } from "node:tls";
import { createLogger } from "../../webhook/log.ts";
import { createMetrics } from "../../webhook/metrics.ts";
import { DEFAULT_INJECT_OPTIONS, VERSION } from "./default-options.ts";
import { BODY_LIMIT_BYTES, createApp, DEFAULT_TIMEOUTS, Readiness, serve, type RunningServer, type ServerTimeouts } from "../../webhook/server.ts";
import { call, testCerts } from "./https-helpers.ts";

async function start(timeouts?: Partial<ServerTimeouts>): Promise<{ running: RunningServer; ca: string }> {
  const bundle = await testCerts();
  const readiness = new Readiness();
  const app = createApp({ options: DEFAULT_INJECT_OPTIONS, version: VERSION, metrics: createMetrics({ processMetrics: false }), logger: createLogger(() => {}), readiness });
  const running = await serve(app, { port: 0, address: "127.0.0.1", tls: { cert: bundle.cert, key: bundle.key }, ...(timeouts && { timeouts }) }, readiness);
  return { running, ca: bundle.caCert };
}

function open(port: number, ca: string, extra: { ciphers?: string; maxVersion?: "TLSv1.2" | "TLSv1.3" } = {}): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca, servername: "localhost", ...extra }, () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Sends `first`, then a byte every 50 ms; resolves with how long the server let the socket live and what it said. */
function trickle(socket: TLSSocket, first: string, limitMs: number): Promise<{ ms: number; reply: string }> {
  const t0 = performance.now();
  let reply = "";
  socket.on("data", (d: Buffer) => (reply += d.toString("latin1")));
  socket.on("error", () => {});
  socket.write(first);
  const drip = setInterval(() => socket.writable && socket.write("x"), 50);
  return new Promise((resolve) => {
    const give = setTimeout(() => socket.destroy(), limitMs);
    socket.once("close", () => {
      clearInterval(drip);
      clearTimeout(give);
      resolve({ ms: performance.now() - t0, reply });
    });
  });
}

let fast: { running: RunningServer; ca: string };
before(async () => {
  fast = await start({ headersMs: 400, requestMs: 900, checkIntervalMs: 100 });
});
after(async () => {
  await fast.running.close(100);
});

test("the defaults are the documented ones: 10 s for headers, 30 s for a request, checked twice a second, 10 s for the handshake, 95 s keep-alive", async () => {
  assert.deepEqual(DEFAULT_TIMEOUTS, { handshakeMs: 10_000, headersMs: 10_000, requestMs: 30_000, checkIntervalMs: 500, keepAliveMs: 95_000 });
  const { running } = await start();
  try {
    const server = running.server as typeof running.server & { connectionsCheckingInterval: number };
    assert.equal(server.headersTimeout, 10_000);
    assert.equal(server.requestTimeout, 30_000);
    assert.equal(server.keepAliveTimeout, 95_000);
    assert.equal(server.connectionsCheckingInterval, 500, "a slow sender is cut off within half a second of its deadline");
  } finally {
    await running.close(100);
  }
});

test("a sender trickling its headers is cut off at the headers timeout (408), not at the next 30 s check", async () => {
  const socket = await open(fast.running.port, fast.ca);
  const { ms, reply } = await trickle(socket, "POST /mutate HTTP/1.1\r\nHost: localhost\r\nX-Slow: ", 5000);
  assert.ok(ms >= 350 && ms < 1000, `cut off after ${ms.toFixed(0)} ms (headers timeout 400 ms, checked every 100 ms)`);
  assert.match(reply, /^HTTP\/1\.1 408/);
});

test("a sender trickling its body is cut off at the request timeout (408)", async () => {
  const socket = await open(fast.running.port, fast.ca);
  const { ms, reply } = await trickle(socket, "POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n", 5000);
  assert.ok(ms >= 850 && ms < 1600, `cut off after ${ms.toFixed(0)} ms (request timeout 900 ms, checked every 100 ms)`);
  assert.match(reply, /^HTTP\/1\.1 408/);
});

test("a chunked body over the limit gets a 413 that names the limit and what had arrived", async () => {
  const reply = await call(fast.running.port, fast.ca, "POST", "/mutate", Buffer.alloc(BODY_LIMIT_BYTES + 1024, 0x20), { headers: { "transfer-encoding": "chunked" }, timeoutMs: 20_000 });
  assert.equal(reply.status, 413);
  const error = reply.json<{ error: string }>().error;
  assert.doesNotMatch(error, /undefined/);
  assert.match(error, new RegExp(`above the limit of ${BODY_LIMIT_BYTES} bytes \\(sent without a length; cut off after \\d+ bytes\\)`));
});

test("TLS 1.2 with only a CBC-SHA1 or a non-ECDHE suite is refused; ECDHE with AES-GCM or ChaCha20 and TLS 1.3 are accepted", async () => {
  for (const ciphers of ["ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA384:ECDHE-RSA-AES256-SHA384", "AES128-GCM-SHA256"]) {
    await assert.rejects(open(fast.running.port, fast.ca, { ciphers, maxVersion: "TLSv1.2" }), /handshake failure|no ciphers|alert/i, ciphers);
  }
  for (const ciphers of ["ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"]) {
    const socket = await open(fast.running.port, fast.ca, { ciphers, maxVersion: "TLSv1.2" });
    assert.equal(socket.getProtocol(), "TLSv1.2");
    socket.destroy();
  }
  const socket = await open(fast.running.port, fast.ca);
  assert.equal(socket.getProtocol(), "TLSv1.3");
  socket.destroy();
});

test("a certificate loaded later (setSecureContext) keeps the cipher policy", async () => {
  const bundle = await testCerts();
  fast.running.server.setSecureContext({ cert: bundle.cert, key: bundle.key });
  await assert.rejects(open(fast.running.port, fast.ca, { ciphers: "ECDHE-ECDSA-AES128-SHA:ECDHE-RSA-AES128-SHA", maxVersion: "TLSv1.2" }), /handshake failure|no ciphers|alert/i);
});

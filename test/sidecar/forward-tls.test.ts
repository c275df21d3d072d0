// Forwarding over TLS with a private CA (made here) and credentials from files laid out as kubelet
// mounts a Secret or ConfigMap, against the real VictoriaLogs serving HTTPS (-tls) with basic auth
// (-httpAuth.*): a wrong CA and a wrong password are each a clear error line and a metric, nothing is
// stored and the checkpoint does not move; the files fixed in place (kubelet's symlink swap, no
// restart) deliver every line once. Through an authenticating HTTPS proxy in front of VictoriaLogs:
// a bearer token, a client certificate (mTLS) that appears later, the tenant, a header from the
// Secret and gzip bodies.
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer, type Server } from "node:https";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { before, test } from "node:test";
import { startVictoriaLogs } from "../../localcluster/backend/victorialogs.ts";
import { CREDENTIALS_MESSAGE, DENIED_MESSAGE, TLS_MESSAGE } from "../../sidecar/sinks/network-sink.ts";
import {
  buildBackend, endpointFor, metricValue, missingNumbers, scrapeMetrics, startSidecar, tally, tempDir, waitForLines, writeNumbered,
  type Sidecar, type SinkKind,
} from "./forward-helpers.ts";
import { writeSecretVolume } from "./secret-volume.ts";
import { makePki, type Pki } from "./test-pki.ts";

before(buildBackend.fn, buildBackend.options);

const USER = "tailcar";
const PASSWORD = "right-Pa55:w@rd-5c1e";
const WRONG = "wrong-Pa55:w@rd-0b7d";
const TOKEN = "tok-3f9a1c77e2d84b6e";
const WRONG_TOKEN = "tok-0000wrong1111";
const API_KEY = "key-8d2e4a";
const SINKS = ["elasticsearch", "loki", "otlp"] as const satisfies readonly SinkKind[];

let pki: Pki;
before(async () => {
  pki = await makePki();
});

function counter(metrics: string, name: string, sink: SinkKind): number {
  return metricValue(metrics, `tailcar_sidecar_sink_${name}_total{sink="${sink}"}`) ?? 0;
}

/** Scrapes until `name` counts at least `want`; returns the last scrape. */
async function waitForCounter(sidecar: Sidecar, name: string, sink: SinkKind, want: number, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let metrics = "";
  for (let i = 0; i < 1000 && Date.now() < deadline; i++) {
    metrics = await scrapeMetrics(sidecar);
    if (counter(metrics, name, sink) >= want) return metrics;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`${name} stayed below ${want}:\n${metrics}\n${sidecar.stderr()}`);
}

function errorLines(sidecar: Sidecar, msg: string): Record<string, unknown>[] {
  return sidecar.stderr().split("\n").filter((l) => l.includes(JSON.stringify(msg))).map((l) => JSON.parse(l) as Record<string, unknown>);
}

function checkpointOffsets(dir: string): number[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).filter((f) => f.endsWith(".json")).map((f) => (JSON.parse(readFileSync(join(dir, f), "utf8")) as { offset: number }).offset);
}

function assertNoSecret(output: string, secrets: readonly string[]): void {
  for (const s of secrets) {
    for (const form of [s, encodeURIComponent(s), Buffer.from(`${USER}:${s}`).toString("base64")]) {
      assert.ok(!output.includes(form), `the output holds a secret (as ${JSON.stringify(form)}):\n${output}`);
    }
  }
}

for (const sink of SINKS) {
  test(`${sink}: HTTPS with a private CA and basic auth from Secret files: a wrong CA, then a wrong password, each an error line and a metric with nothing stored; fixed in place, every line arrives once without a restart`, { timeout: 120_000 }, async (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, "server.crt"), pki.serverCert);
    writeFileSync(join(dir, "server.key"), pki.serverKey);
    const vl = await startVictoriaLogs({ auth: { username: USER, password: PASSWORD }, tls: { certFile: join(dir, "server.crt"), keyFile: join(dir, "server.key"), ca: pki.caCert } });
    t.after(() => vl.dispose());
    const reader = vl.url.replace("://", `://${USER}:${encodeURIComponent(PASSWORD)}@`);
    const authDir = join(dir, "auth");
    const caDir = join(dir, "ca");
    // A trailing newline, as `kubectl create secret --from-file` keeps it.
    writeSecretVolume(authDir, { username: `${USER}\n`, password: `${WRONG}\n` });
    writeSecretVolume(caDir, { "ca.crt": pki.otherCaCert });
    const file = join(dir, "app.log");
    const cp = join(dir, "cp");
    const tag = `tls-${sink}`;
    writeNumbered(file, tag, 0, 10_000);
    const sidecar = startSidecar(t, [
      "--file", file, "--sink", sink, "--endpoint", endpointFor(sink, vl.url),
      "--auth-dir", authDir, "--ca-file", join(caDir, "ca.crt"),
      "--checkpoint-dir", cp, "--checkpoint-interval", "100ms", "--poll-interval", "50ms", "--metrics-port", "0",
    ]);

    // 1. The CA did not sign the backend's certificate.
    let metrics = await waitForCounter(sidecar, "tls_failures", sink, 2);
    const tlsErrors = errorLines(sidecar, TLS_MESSAGE);
    assert.equal(tlsErrors.length, 1, sidecar.stderr());
    assert.equal(tlsErrors[0]!.level, "error");
    assert.match(String(tlsErrors[0]!.reason), /certificate/i);
    assert.equal(counter(metrics, "auth_failures", sink), 0);

    // 2. The right CA, swapped in as kubelet does: the next attempt reaches the backend, which refuses the password.
    writeSecretVolume(caDir, { "ca.crt": pki.caCert });
    metrics = await waitForCounter(sidecar, "auth_failures", sink, 2);
    const denied = errorLines(sidecar, DENIED_MESSAGE);
    assert.equal(denied.length, 1, sidecar.stderr());
    assert.deepEqual([denied[0]!.level, denied[0]!.status], ["error", 401]);
    assert.equal((await tally(reader, pki.caCert)).total, 0, "nothing stored");
    assert.deepEqual(checkpointOffsets(cp).filter((o) => o !== 0), [], "the checkpoint did not pass a refused line");
    const refused = counter(metrics, "auth_failures", sink);

    // 3. The right password, in place: delivered without a restart, more lines written meanwhile.
    const fixedAt = Date.now();
    writeSecretVolume(authDir, { username: `${USER}\n`, password: `${PASSWORD}\n` });
    writeNumbered(file, tag, 10_000, 15_000);
    const got = await waitForLines(reader, 15_000, 60_000, pki.caCert);
    const delivered = Date.now() - fixedAt;
    if (got.distinct !== 15_000) assert.fail(`${15_000 - got.distinct} lines missing; first: ${(await missingNumbers(reader, tag, 15_000, pki.caCert)).join(", ")}\n${sidecar.stderr()}`);
    assert.equal(got.total, 15_000, `${got.total - 15_000} lines stored twice`);
    // An attempt already under way when the files changed may still be refused; none once delivery went through.
    const after = await scrapeMetrics(sidecar);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(counter(await scrapeMetrics(sidecar), "auth_failures", sink), counter(after, "auth_failures", sink), "no refusal after the fix took");
    assert.equal(await sidecar.stop(), 0, sidecar.stderr());
    assert.match(sidecar.stderr(), /"backend accepts again"/);
    t.diagnostic(`${sink}: ${counter(metrics, "tls_failures", sink)} TLS failures, ${counter(after, "auth_failures", sink)} refusals (${refused} when the password was fixed); all 15,000 lines stored once, the last ${delivered} ms after the password was fixed`);
    assertNoSecret(`${sidecar.stdout()}\n${sidecar.stderr()}\n${metrics}\n${after}`, [PASSWORD, WRONG]);
  });
}

interface Seen {
  authorization?: string;
  tenant?: string;
  apiKey?: string;
  encoding?: string;
  requests: number;
  gzipped: number;
  /** Of the requests accepted (right token): bytes as sent, and after gunzip. */
  bytes: number;
  plainBytes: number;
  clientCerts: number;
}

/**
 * HTTPS on 127.0.0.1 that asks for a client certificate signed by the test's CA and a bearer token,
 * records what it was sent, and passes the request (its body as sent, gzip included) to VictoriaLogs.
 */
async function authenticatingProxy(t: { after(fn: () => Promise<unknown> | void): void }, upstream: string): Promise<{ url: string; seen: Seen }> {
  const seen: Seen = { requests: 0, gzipped: 0, bytes: 0, plainBytes: 0, clientCerts: 0 };
  const server: Server = createServer({ key: pki.serverKey, cert: pki.serverCert, ca: pki.caCert, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.requests++;
      seen.authorization = req.headers.authorization;
      seen.tenant = req.headers["x-scope-orgid"] as string | undefined;
      seen.apiKey = req.headers["x-api-key"] as string | undefined;
      seen.encoding = req.headers["content-encoding"];
      if ((req.socket as { authorized?: boolean }).authorized) seen.clientCerts++;
      if (req.headers["content-encoding"] === "gzip") seen.gzipped++;
      if (req.headers.authorization !== `Bearer ${TOKEN}`) {
        res.writeHead(401, { "content-type": "text/plain" }).end("missing or wrong bearer token\n");
        return;
      }
      seen.bytes += body.length;
      seen.plainBytes += req.headers["content-encoding"] === "gzip" ? gunzipSync(body).length : body.length;
      // The proxy plays Loki's gateway: it takes the tenant (VictoriaLogs would read X-Scope-OrgID as its numeric AccountID).
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && !["host", "authorization", "connection", "x-scope-orgid", "x-api-key"].includes(k)) headers[k] = v;
      const up = httpRequest(`${upstream}${req.url}`, { method: "POST", headers }, (ur) => {
        const parts: Buffer[] = [];
        ur.on("data", (c: Buffer) => parts.push(c));
        ur.on("end", () => res.writeHead(ur.statusCode ?? 502, { "content-type": ur.headers["content-type"] ?? "text/plain" }).end(Buffer.concat(parts)));
      });
      up.on("error", (e) => res.writeHead(502).end(e.message));
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const address = server.address();
  return { url: `https://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`, seen };
}

for (const sink of SINKS) {
  test(`${sink}: through an HTTPS proxy that asks for a client certificate and a bearer token: a missing client certificate is a credentials error with nothing sent; once its Secret appears a wrong token is refused; once the token is fixed, every line arrives once, gzipped, with the tenant and the Secret's header`, { timeout: 120_000 }, async (t) => {
    const dir = tempDir(t);
    const vl = await startVictoriaLogs();
    t.after(() => vl.dispose());
    const proxy = await authenticatingProxy(t, vl.url);
    const authDir = join(dir, "auth");
    const caDir = join(dir, "ca");
    const certDir = join(dir, "client-cert");
    writeSecretVolume(authDir, { token: WRONG_TOKEN, "header.X-Api-Key": API_KEY });
    writeSecretVolume(caDir, { "ca.crt": pki.caCert });
    // An optional Secret volume whose Secret does not exist yet: kubelet mounts it empty.
    mkdirSync(certDir);
    const file = join(dir, "app.log");
    const tag = `mtls-${sink}`;
    writeNumbered(file, tag, 0, 8_000);
    const sidecar = startSidecar(t, [
      "--file", file, "--sink", sink, "--endpoint", endpointFor(sink, proxy.url),
      "--auth-dir", authDir, "--ca-file", join(caDir, "ca.crt"),
      "--cert-file", join(certDir, "tls.crt"), "--key-file", join(certDir, "tls.key"),
      "--tenant", "team-a", "--compression", "gzip",
      "--checkpoint-dir", join(dir, "cp"), "--poll-interval", "50ms", "--metrics-port", "0",
    ]);
    const metrics = await waitForCounter(sidecar, "credential_errors", sink, 2);
    const problems = errorLines(sidecar, CREDENTIALS_MESSAGE);
    assert.equal(problems.length, 1, sidecar.stderr());
    assert.match(String(problems[0]!.reason), /client certificate .*tls\.crt.* does not exist/);
    assert.equal(proxy.seen.requests, 0, "nothing was sent without the client certificate");

    writeSecretVolume(certDir, { "tls.crt": pki.clientCert, "tls.key": pki.clientKey });
    const refused = await waitForCounter(sidecar, "auth_failures", sink, 1);
    assert.equal(errorLines(sidecar, DENIED_MESSAGE).length, 1, sidecar.stderr());
    assert.equal((await tally(vl.url)).total, 0, "nothing stored with the wrong token");
    writeSecretVolume(authDir, { token: TOKEN, "header.X-Api-Key": API_KEY });
    const got = await waitForLines(vl.url, 8_000, 60_000);
    if (got.distinct !== 8_000) assert.fail(`${8_000 - got.distinct} lines missing; first: ${(await missingNumbers(vl.url, tag, 8_000)).join(", ")}\n${sidecar.stderr()}`);
    assert.equal(got.total, 8_000, `${got.total - 8_000} lines stored twice`);
    assert.equal(await sidecar.stop(), 0, sidecar.stderr());
    const { seen } = proxy;
    assert.deepEqual([seen.authorization, seen.tenant, seen.apiKey, seen.encoding], [`Bearer ${TOKEN}`, "team-a", API_KEY, "gzip"]);
    assert.equal(seen.gzipped, seen.requests, "every request gzipped");
    assert.equal(seen.clientCerts, seen.requests, "every request over a connection with the client certificate");
    t.diagnostic(`${sink}: ${counter(metrics, "credential_errors", sink)} attempts held without the client certificate, ${counter(refused, "auth_failures", sink)} refused with the wrong token; then ${seen.requests} requests, ${seen.bytes} bytes gzipped for ${seen.plainBytes} (${(seen.plainBytes / seen.bytes).toFixed(1)}x)`);
    assertNoSecret(`${sidecar.stdout()}\n${sidecar.stderr()}\n${metrics}\n${refused}`, [TOKEN, WRONG_TOKEN, API_KEY]);
  });
}

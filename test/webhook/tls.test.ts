import { test } from "node:test";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import { bundleProblem, generateCertBundle, serviceDnsNames, subjectAltNames, RENEW_BEFORE_MS } from "../../webhook/certs.ts";
import { createLogger } from "../../webhook/log.ts";
import { createMetrics } from "../../webhook/metrics.ts";
import { DEFAULT_INJECT_OPTIONS, VERSION } from "./default-options.ts";
import { createApp, Readiness, serve } from "../../webhook/server.ts";
import { bundleFromSecret, caBundlePatch, mergedCaBundle, secretFor } from "../../webhook/tls-bootstrap.ts";
import { readTlsPair, watchTlsFiles } from "../../webhook/tls-files.ts";

/** The fingerprint of the certificate a TLS server presents, trusting ca. */
function servedFingerprint(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.end();
      resolve(fp);
    });
    socket.setTimeout(5000, () => socket.destroy(new Error("TLS handshake timed out")));
    socket.on("error", reject);
  });
}

test("the serving certificate carries every Service DNS name and the requested IP SANs, signed by its CA", async () => {
  const dnsNames = serviceDnsNames("tailcar-webhook", "tailcar-system");
  assert.deepEqual(dnsNames, ["tailcar-webhook", "tailcar-webhook.tailcar-system", "tailcar-webhook.tailcar-system.svc", "tailcar-webhook.tailcar-system.svc.cluster.local"]);
  const bundle = await generateCertBundle({ dnsNames, ipAddresses: ["127.0.0.1"] });
  assert.deepEqual(subjectAltNames(bundle.cert), [...dnsNames.map((n) => `DNS:${n}`), "IP:127.0.0.1"]);
  const cert = new X509Certificate(bundle.cert);
  const ca = new X509Certificate(bundle.caCert);
  assert.ok(ca.ca, "the CA is a CA");
  assert.equal(cert.ca, false);
  assert.ok(cert.verify(ca.publicKey));
  assert.equal(bundleProblem(bundle, { dnsNames, ipAddresses: ["127.0.0.1"] }), undefined);
});

test("a stored pair is not reused when a name is missing, the key does not match, or expiry is near", async () => {
  const dnsNames = ["svc.ns.svc"];
  const a = await generateCertBundle({ dnsNames });
  const b = await generateCertBundle({ dnsNames });
  assert.match(bundleProblem(a, { dnsNames: ["other.ns.svc"] }) ?? "", /lacks DNS:other.ns.svc/);
  assert.match(bundleProblem(a, { dnsNames, ipAddresses: ["10.0.0.1"] }) ?? "", /lacks IP:10.0.0.1/);
  assert.match(bundleProblem({ ...a, key: b.key }, { dnsNames }) ?? "", /private key does not match/);
  assert.match(bundleProblem({ ...a, caCert: b.caCert }, { dnsNames }) ?? "", /not signed by the CA/);
  const nearExpiry = new Date(Date.now() + 365 * 86_400_000 - RENEW_BEFORE_MS + 86_400_000);
  assert.match(bundleProblem(a, { dnsNames, now: nearExpiry }) ?? "", /renewal window/);
  assert.match(bundleProblem({ ...a, cert: "garbage" }, { dnsNames }) ?? "", /does not parse/);
});

test("IPv6 SANs compare equal however they are spelled", async () => {
  const bundle = await generateCertBundle({ dnsNames: ["x"], ipAddresses: ["::1", "FD00:0:0:0:0:0:0:10"] });
  assert.deepEqual(subjectAltNames(bundle.cert), ["DNS:x", "IP:::1", "IP:fd00::10"]);
  assert.equal(bundleProblem(bundle, { dnsNames: ["x"], ipAddresses: ["0:0:0:0:0:0:0:1", "fd00::10"] }), undefined);
});

test("generateCertBundle rejects an IP SAN that is not an IP address", async () => {
  await assert.rejects(generateCertBundle({ dnsNames: ["x"], ipAddresses: ["localhost"] }), /"localhost" is not an IP address/);
});

test("the Secret round-trips the pair as a kubernetes.io/tls Secret with ca.crt", async () => {
  const bundle = await generateCertBundle({ dnsNames: ["s.n.svc"] });
  const secret = secretFor("tailcar-webhook-tls", "tailcar-system", bundle, "42");
  assert.equal(secret.type, "kubernetes.io/tls");
  assert.deepEqual(Object.keys(secret.data ?? {}).sort(), ["ca.crt", "tls.crt", "tls.key"]);
  assert.equal(secret.metadata?.resourceVersion, "42");
  assert.deepEqual(bundleFromSecret(secret), bundle);
  assert.equal(bundleFromSecret({ data: { "tls.crt": "eA==" } }), undefined);
});

test("the caBundle patch sets every webhook's caBundle, each guarded by a test of its name", async () => {
  const { caCert } = await generateCertBundle({ dnsNames: ["x"] });
  const patch = caBundlePatch({ webhooks: [{ name: "a.tailcar.io" }, { name: "b.tailcar.io", clientConfig: {} }] }, caCert);
  const ca = Buffer.from(`${caCert.trim()}\n`).toString("base64");
  assert.deepEqual(patch, [
    { op: "test", path: "/webhooks/0/name", value: "a.tailcar.io" },
    { op: "add", path: "/webhooks/0/clientConfig/caBundle", value: ca },
    { op: "test", path: "/webhooks/1/name", value: "b.tailcar.io" },
    { op: "add", path: "/webhooks/1/clientConfig/caBundle", value: ca },
  ]);
  assert.throws(() => caBundlePatch({ webhooks: [] }, caCert), /has no webhooks/);
});

test("a renewed caBundle keeps the previous CA while it is valid, so a replica still serving the old certificate stays trusted", async () => {
  const old = await generateCertBundle({ dnsNames: ["x"], validDays: 60 });
  const renewed = await generateCertBundle({ dnsNames: ["x"] });
  const existing = Buffer.from(`${old.caCert}\n-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n`).toString("base64");
  const pems = (text: string) => text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const merged = mergedCaBundle(existing, renewed.caCert);
  assert.deepEqual(pems(merged), [renewed.caCert.trim(), old.caCert.trim()], "new CA first, old kept, garbage dropped");
  assert.deepEqual(pems(mergedCaBundle(Buffer.from(merged).toString("base64"), renewed.caCert)), pems(merged), "idempotent");
  const afterOldExpiry = new Date(Date.now() + 62 * 86_400_000);
  assert.deepEqual(pems(mergedCaBundle(existing, renewed.caCert, afterOldExpiry)), [renewed.caCert.trim()], "an expired CA is dropped");
});

test("readTlsPair names the file that is missing or does not match", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-tls-"));
  try {
    const a = await generateCertBundle({ dnsNames: ["localhost"] });
    const b = await generateCertBundle({ dnsNames: ["localhost"] });
    writeFileSync(join(dir, "tls.crt"), a.cert);
    writeFileSync(join(dir, "tls.key"), b.key);
    await assert.rejects(readTlsPair(join(dir, "tls.crt"), join(dir, "nope.key")), /--tls-key .*nope.key/);
    await assert.rejects(readTlsPair(join(dir, "tls.crt"), join(dir, "tls.key")), /not a usable certificate and key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("rewritten certificate files are served without a restart", { timeout: 20_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "tailcar-tls-"));
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  const first = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const second = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  writeFileSync(certFile, first.cert);
  writeFileSync(keyFile, first.key);
  const readiness = new Readiness();
  const app = createApp({ options: DEFAULT_INJECT_OPTIONS, version: VERSION, metrics: createMetrics({ processMetrics: false }), logger: createLogger(() => {}), readiness });
  const initial = await readTlsPair(certFile, keyFile);
  const running = await serve(app, { port: 0, address: "127.0.0.1", tls: initial }, readiness);
  const errors: Error[] = [];
  let reloads = 0;
  const watcher = watchTlsFiles(certFile, keyFile, initial, {
    pollIntervalMs: 200,
    onChange: (pair) => {
      reloads++;
      running.server.setSecureContext(pair);
    },
    onError: (e) => errors.push(e),
  });
  try {
    const firstFp = new X509Certificate(first.cert).fingerprint256;
    const secondFp = new X509Certificate(second.cert).fingerprint256;
    assert.equal(await servedFingerprint(running.port, first.caCert), firstFp);
    // As a writer would: the certificate first (a mismatched pair for a moment), then the key by rename.
    writeFileSync(certFile, second.cert);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(await servedFingerprint(running.port, first.caCert), firstFp, "a mismatched pair is not loaded");
    writeFileSync(join(dir, "tls.key.tmp"), second.key);
    renameSync(join(dir, "tls.key.tmp"), keyFile);
    let served = "";
    for (let i = 0; i < 50 && served !== secondFp; i++) {
      await new Promise((r) => setTimeout(r, 100));
      served = await servedFingerprint(running.port, second.caCert).catch(() => "");
    }
    assert.equal(served, secondFp, "the new certificate is served");
    assert.equal(reloads, 1);
    assert.ok(errors.length >= 1 && /not a usable certificate and key/.test(errors[0]!.message), "the half-written pair was reported");
  } finally {
    watcher.close();
    await running.close(500);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a Secret volume's atomic ..data symlink swap (how the kubelet updates mounted certificates) is picked up", { timeout: 20_000 }, async () => {
  const { mkdirSync, symlinkSync } = await import("node:fs");
  const dir = mkdtempSync(join(tmpdir(), "tailcar-tls-"));
  const first = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const second = await generateCertBundle({ dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"] });
  const writeVersion = (name: string, pair: { cert: string; key: string }) => {
    mkdirSync(join(dir, name));
    writeFileSync(join(dir, name, "tls.crt"), pair.cert);
    writeFileSync(join(dir, name, "tls.key"), pair.key);
  };
  // The kubelet's layout: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>; an update writes a new
  // timestamped directory and renames a new ..data symlink over the old one.
  writeVersion("..v1", first);
  symlinkSync("..v1", join(dir, "..data"));
  symlinkSync("..data/tls.crt", join(dir, "tls.crt"));
  symlinkSync("..data/tls.key", join(dir, "tls.key"));
  const certFile = join(dir, "tls.crt");
  const keyFile = join(dir, "tls.key");
  const initial = await readTlsPair(certFile, keyFile);
  const readiness = new Readiness();
  const app = createApp({ options: DEFAULT_INJECT_OPTIONS, version: VERSION, metrics: createMetrics({ processMetrics: false }), logger: createLogger(() => {}), readiness });
  const running = await serve(app, { port: 0, address: "127.0.0.1", tls: initial }, readiness);
  const watcher = watchTlsFiles(certFile, keyFile, initial, { pollIntervalMs: 300, onChange: (pair) => running.server.setSecureContext(pair), onError: () => {} });
  try {
    writeVersion("..v2", second);
    symlinkSync("..v2", join(dir, "..data_tmp"));
    renameSync(join(dir, "..data_tmp"), join(dir, "..data"));
    const want = new X509Certificate(second.cert).fingerprint256;
    let served = "";
    for (let i = 0; i < 50 && served !== want; i++) {
      await new Promise((r) => setTimeout(r, 100));
      served = await servedFingerprint(running.port, second.caCert).catch(() => "");
    }
    assert.equal(served, want);
  } finally {
    watcher.close();
    await running.close(500);
    rmSync(dir, { recursive: true, force: true });
  }
});

// The credential files a forwarding sidecar reads (a Secret mounted by kubelet): what they make,
// what is refused without quoting a secret, and a change picked up without a restart.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { authHeaders, CredentialFiles, readCredentials } from "../../sidecar/sinks/credential-files.ts";
import { tempDir } from "./forward-helpers.ts";
import { writeSecretVolume } from "./secret-volume.ts";
import { makePki } from "./test-pki.ts";

const files = (o: Record<string, string>) => new Map(Object.entries(o));

test("username and password make basic auth (trailing newlines dropped), token makes a bearer header, header.NAME files add headers", () => {
  assert.deepEqual(authHeaders(files({ username: "ops\n", password: "p:w@d\r\n" }), "/s"), { headers: [["Authorization", `Basic ${Buffer.from("ops:p:w@d").toString("base64")}`]] });
  assert.deepEqual(authHeaders(files({ token: "abc.def\n", "header.X-Api-Key": "k1\n" }), "/s"), { headers: [["Authorization", "Bearer abc.def"], ["X-Api-Key", "k1"]] });
  assert.deepEqual(authHeaders(files({ "header.Authorization": "ApiKey Zm9v" }), "/s"), { headers: [["Authorization", "ApiKey Zm9v"]] });
});

test("files that cannot be used are refused with a message that names the file and never the secret", () => {
  const secret = "S3cr3t-value";
  for (const [content, problem] of [
    [{ password: secret }, /password" has no "\/s\/username"/],
    [{ username: "ops" }, /has no "\/s\/password"/],
    [{ username: "ops", password: secret, token: secret }, /both username\/password and token/],
    [{ username: "o:ps", password: secret }, /holds a ":"/],
    [{ token: `${secret}\nX-Evil: 1` }, /token" holds a character/],
    [{ token: secret, "header.Authorization": secret }, /also set by username\/password or token/],
    [{ "header.Bad Name": secret }, /not an HTTP header name/],
    [{ "header.Content-Length": "1" }, /writes itself/],
    [{}, /holds no credentials/],
  ] as const) {
    const got = authHeaders(files(content as Record<string, string>), "/s");
    assert.ok("problem" in got, JSON.stringify(content));
    assert.match(got.problem, problem);
    assert.ok(!got.problem.includes(secret), got.problem);
  }
});

test("readCredentials: a missing directory or file is named; a CA that is not PEM, or a key that does not match its certificate, is refused at read", async (t) => {
  const dir = tempDir(t);
  const missing = await readCredentials({ authDir: join(dir, "none") });
  assert.ok(!missing.ok && /credentials directory .* does not exist/.test(missing.problem), JSON.stringify(missing));
  writeFileSync(join(dir, "ca.crt"), "not a certificate");
  const bad = await readCredentials({ caFile: join(dir, "ca.crt") });
  assert.ok(!bad.ok && /ca\.crt" holds no PEM certificate/.test(bad.problem), JSON.stringify(bad));
  const pki = await makePki();
  writeFileSync(join(dir, "ca.crt"), pki.caCert);
  writeFileSync(join(dir, "tls.crt"), pki.clientCert);
  writeFileSync(join(dir, "tls.key"), pki.serverKey);
  const mismatch = await readCredentials({ certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") });
  assert.ok(!mismatch.ok && /cannot be used/.test(mismatch.problem), JSON.stringify(mismatch));
  writeFileSync(join(dir, "tls.key"), pki.clientKey);
  const good = await readCredentials({ caFile: join(dir, "ca.crt"), certFile: join(dir, "tls.crt"), keyFile: join(dir, "tls.key") });
  assert.ok(good.ok);
  assert.equal(good.material.tls.ca?.toString(), pki.caCert);
});

test("CredentialFiles: kept between reads, read again after a kubelet-style swap (the watch fires at once, no restart)", async (t) => {
  const dir = tempDir(t);
  const auth = join(dir, "auth");
  writeSecretVolume(auth, { token: "first" });
  let now = 0;
  const creds = new CredentialFiles({ authDir: auth }, () => now);
  t.after(() => creds.close());
  let changes = 0;
  creds.watch(() => changes++);
  const first = await creds.load();
  assert.ok(first.ok);
  assert.deepEqual(first.material.headers, [["Authorization", "Bearer first"]]);
  writeSecretVolume(auth, { token: "second" });
  for (let i = 0; i < 100 && changes === 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.ok(changes > 0, "the swap was seen");
  const second = await creds.load();
  assert.ok(second.ok);
  assert.deepEqual(second.material.headers, [["Authorization", "Bearer second"]], "read again at the change, before RECHECK_MS passed");
});

test("CredentialFiles: without a watch event, a change is read at the next load RECHECK_MS after the last read", async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, "auth"));
  writeFileSync(join(dir, "auth", "token"), "one");
  let now = 0;
  const creds = new CredentialFiles({ authDir: join(dir, "auth") }, () => now);
  assert.deepEqual((await creds.load() as { material: { headers: unknown } }).material.headers, [["Authorization", "Bearer one"]]);
  writeFileSync(join(dir, "auth", "token"), "two");
  now = 500;
  assert.deepEqual((await creds.load() as { material: { headers: unknown } }).material.headers, [["Authorization", "Bearer one"]], "kept within RECHECK_MS");
  now = 1000;
  assert.deepEqual((await creds.load() as { material: { headers: unknown } }).material.headers, [["Authorization", "Bearer two"]]);
});

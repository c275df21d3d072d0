// Credentials in an endpoint URL: split into a basic-auth header, and hidden from every printed URL.
import assert from "node:assert/strict";
import { test } from "node:test";
import { SettingsError, parseSidecarConfig } from "../../sidecar/config.ts";
import { CredentialsError, redactCredentials, requestTarget } from "../../settings/url-credentials.ts";

test("redactCredentials hides the password of every URL in a text, and a user name that stands alone", () => {
  const cases: [string, string][] = [
    ["http://es:9200", "http://es:9200"],
    ["https://elastic:s3cret@es:9200/_bulk?x=1", "https://elastic:***@es:9200/_bulk?x=1"],
    ["http://token@vl:9428", "http://***@vl:9428"],
    ["http://:s3cret@vl:9428", "http://:***@vl:9428"],
    // The last @ before the host ends the user information (WHATWG URL parsing).
    ["http://u:p@ss@host/x", "http://u:***@host/x"],
    ["http://u:p%40ss@host", "http://u:***@host"],
    // Inside JSON and prose, and URLs that do not parse (error messages echo those).
    ['{"url":"http://u:s3cret@h:1/x","reason":"user@example.com"}', '{"url":"http://u:***@h:1/x","reason":"user@example.com"}'],
    ['"http://u:s3cret@host:99999" is not a URL', '"http://u:***@host:99999" is not a URL'],
    ["a http://a:1@x and HTTPS://b:2@y", "a http://a:***@x and HTTPS://b:***@y"],
    ["mail me at someone@example.com", "mail me at someone@example.com"],
  ];
  for (const [text, want] of cases) assert.equal(redactCredentials(text), want, text);
});

test("requestTarget: user and password percent-decoded into a basic-auth header, the URL without them", () => {
  const t = requestTarget("https://j%C3%BCrgen:p%40ss:word@es:9200/_bulk");
  assert.equal(t.url, "https://es:9200/_bulk");
  assert.equal(t.shown, "https://j%C3%BCrgen:***@es:9200/_bulk");
  assert.equal(t.headers.Authorization, `Basic ${Buffer.from("jürgen:p@ss:word", "utf8").toString("base64")}`);
  assert.deepEqual(requestTarget("http://vl:9428/insert"), { url: "http://vl:9428/insert", shown: "http://vl:9428/insert", headers: {} });
  assert.deepEqual(requestTarget("http://tok@vl:9428/").headers, { Authorization: `Basic ${Buffer.from("tok:").toString("base64")}` });
  assert.throws(() => requestTarget("http://u:50%zz@vl:9428/"), (e: Error) => e instanceof CredentialsError && !e.message.includes("50%zz"));
});

test("a bad --endpoint is refused with a message that does not hold its password", () => {
  const secret = "Sup3rS3cret";
  const bad = [`http://u:${secret}@host:99999`, `u:${secret}@host:9200`, `ftp://u:${secret}@host`, `http://u:${secret}%zz@host`];
  for (const endpoint of bad) {
    assert.throws(
      () => parseSidecarConfig(["--file", "/a.log", "--sink", "loki", "--endpoint", endpoint], {}),
      (e: Error) => e instanceof SettingsError && e.message.startsWith("--endpoint: ") && !e.message.includes(secret),
      endpoint,
    );
  }
  const ok = parseSidecarConfig(["--file", "/a.log", "--sink", "loki", "--endpoint", `http://u:${secret}@host:3100`], {});
  assert.equal(ok.endpoint, `http://u:${secret}@host:3100`, "the configuration keeps the credentials for the sink");
});

test("redactCredentials on the start of a longer text hides a user information still open at its end", () => {
  assert.equal(redactCredentials("see https://ops:s3cr", true), "see https://***");
  assert.equal(redactCredentials("see https://ops:s3cr@host/x and http://a", true), "see https://ops:***@host/x and http://***");
  assert.equal(redactCredentials("see https://ops:s3cr"), "see https://ops:s3cr", "a whole text with no @ holds no credentials");
});

test("redactCredentials reads each character a bounded number of times (the regular expression it replaced backtracked quadratically)", () => {
  const many = "a://u:p@h/ ".repeat(20_000);
  const redacted = redactCredentials(many);
  assert.equal(redacted, "a://u:***@h/ ".repeat(20_000));
  const started = process.cpuUsage();
  redactCredentials("a".repeat(100_000));
  const used = process.cpuUsage(started);
  const cpuMs = (used.user + used.system) / 1000;
  // A bound far above the scan's cost (under 5 ms here), far below the expression's (11 s).
  assert.ok(cpuMs < 1000, `${cpuMs} ms of CPU for a 100 K run of scheme characters`);
});

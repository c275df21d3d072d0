import assert from "node:assert/strict";
import { test } from "node:test";
import { parseSidecarConfig, SettingsError } from "../../sidecar/config.ts";

const base = ["--file", "/var/log/a.log", "--sink", "loki"];

test("the forwarding files, tenant, headers and compression are read from flags and from the variables the injector writes", () => {
  const c = parseSidecarConfig([...base, "--endpoint", "https://loki:3100", "--auth-dir", "/etc/a", "--ca-file", "/etc/ca/ca.crt", "--cert-file", "/c/tls.crt", "--key-file", "/c/tls.key", "--tenant", "t1", "--header", "X-A=1,X-B=2", "--compression", "gzip"], {});
  assert.deepEqual([c.authDir, c.caFile, c.certFile, c.keyFile, c.tenant, c.headers, c.compression], ["/etc/a", "/etc/ca/ca.crt", "/c/tls.crt", "/c/tls.key", "t1", [["X-A", "1"], ["X-B", "2"]], "gzip"]);
  const e = parseSidecarConfig([], { TAILCAR_FILES: "/var/log/a.log", TAILCAR_SINK: "otlp", TAILCAR_ENDPOINT: "http://c:4318", TAILCAR_AUTH_DIR: "/etc/a", TAILCAR_HEADERS: "X-A=1,X-B=2", TAILCAR_COMPRESSION: "none" });
  assert.deepEqual([e.authDir, e.headers, e.compression, e.tenant], ["/etc/a", [["X-A", "1"], ["X-B", "2"]], "none", undefined]);
});

test("forwarding settings that do not go together are refused at start, naming the flags", () => {
  for (const [args, problem] of [
    [["--endpoint", "https://l:3100", "--cert-file", "/c"], /--cert-file and --key-file go together/],
    [["--endpoint", "https://u:p@l:3100", "--auth-dir", "/a"], /--auth-dir and credentials in --endpoint/],
    [["--endpoint", "http://l:3100", "--ca-file", "/ca"], /--ca-file needs an https:\/\/ --endpoint/],
    [["--endpoint", "http://l:3100", "--header", "X-A=1,x-a=2"], /names the header "x-a" twice/],
    [["--endpoint", "http://l:3100", "--compression", "br"], /is not one of none, gzip/],
  ] as const) {
    assert.throws(() => parseSidecarConfig([...base, ...args], {}), (e: Error) => e instanceof SettingsError && problem.test(e.message), args.join(" "));
  }
});

import assert from "node:assert/strict";
import { test } from "node:test";
import { closestKnownKey, parsePodConfig } from "../../webhook/annotations.ts";
import { claimName, nameFromPath } from "../../webhook/container-name.ts";
import { isDns1123Label } from "../../settings/dns1123.ts";
import { parseFileEntries } from "../../webhook/file-entries.ts";
import { POD_ROWS } from "../../webhook/injection-rows.ts";
import { DEFAULT_INJECT_OPTIONS } from "./default-options.ts";
import { parseQuantity, quantityProblem } from "../../settings/quantity.ts";

test("tailcar.io/files entries: names, paths, separators", () => {
  const cases: [string, { name?: string; path: string }[]][] = [
    ["/var/log/error.log", [{ path: "/var/log/error.log" }]],
    ["/a/x.log,/b/y.log", [{ path: "/a/x.log" }, { path: "/b/y.log" }]],
    [" /a/x.log ,\n\n/b/y.log\n", [{ path: "/a/x.log" }, { path: "/b/y.log" }]],
    ["err=/var/log/error.log", [{ name: "err", path: "/var/log/error.log" }]],
    ["/var/log/a=b.log", [{ path: "/var/log/a=b.log" }]],
    ["app=/var/log/app/**/*.log!debug.log", [{ name: "app", path: "/var/log/app/**/*.log!debug.log" }]],
    ["/var/log/app/*.log, /var/log/x!y.log", [{ path: "/var/log/app/*.log" }, { path: "/var/log/x!y.log" }]],
    ["", []],
  ];
  for (const [value, entries] of cases) {
    const parsed = parseFileEntries(value);
    assert.deepEqual(parsed.entries, entries, JSON.stringify(value));
    assert.deepEqual(parsed.warnings, [], JSON.stringify(value));
  }
});

test("tailcar.io/files: each bad entry is dropped with a warning naming the entry and the problem", () => {
  const cases: [string, RegExp][] = [
    ["relative.log", /"relative\.log" .*"tailcar\.io\/files": the path is not an absolute path/],
    ["/var/log/", /names a directory/],
    ["/var/../etc/passwd", /"\." or "\.\." segments/],
    ["/var/log/**", /is a glob, but the pattern "\/var\/log\/\*\*" ends with "\*\*"/],
    ["/var/log/[ab.log", /is a glob, but .*without its "\]"/],
    ["/var/log/*.log!tmp/x.log", /is a glob, but the exclude "tmp\/x.log" has a "\/" but is not an absolute path/],
    ["/*.log", /a glob over \/, which cannot be shared/],
    ["/var/run/*/x.log", /a glob over \/var\/run, which holds \/var\/run\/tailcar/],
    ["/var/log/* .log", /whitespace/],
    ["/app.log", /directly in \//],
    ["/var/run/tailcar/x.log", /checkpoints/],
    ["/var/log/my file.log", /whitespace/],
  ];
  for (const [value, pattern] of cases) {
    const parsed = parseFileEntries(value);
    assert.deepEqual(parsed.entries, [], value);
    assert.equal(parsed.warnings.length, 1, value);
    assert.match(parsed.warnings[0]!, pattern);
    assert.match(parsed.warnings[0]!, /^invalid value ".*" for annotation "tailcar\.io\/files": .*entry ignored$/);
  }
});

test("tailcar.io/files: a repeated file is kept once; an invalid name falls back to the derived one", () => {
  const parsed = parseFileEntries("/a/x.log, /a/x.log, Bad_Name=/a/y.log");
  assert.deepEqual(parsed.entries, [{ path: "/a/x.log" }, { path: "/a/y.log" }]);
  assert.equal(parsed.warnings.length, 2);
  assert.match(parsed.warnings[0]!, /listed twice/);
  assert.match(parsed.warnings[1]!, /"Bad_Name" is not a DNS-1123 label/);
});

test("container names are DNS-1123 labels derived from the file name", () => {
  const cases: [string, string][] = [
    ["/var/log/error.log", "error-log"],
    ["/var/log/access.log", "access-log"],
    ["/var/log/App_Server.LOG", "app-server-log"],
    ["/var/log/.hidden", "hidden"],
    ["/var/log/___", "log"],
    [`/var/log/${"a".repeat(80)}.log`, "a".repeat(63)],
    [`/var/log/${"a".repeat(62)}-b.log`, "a".repeat(62)],
  ];
  for (const [path, name] of cases) {
    assert.equal(nameFromPath(path), name, path);
    assert.ok(isDns1123Label(name), name);
  }
});

test("claimName adds -2, -3… and stays a valid label at 63 characters", () => {
  const taken = new Set(["app", "app-2"]);
  assert.equal(claimName("app", taken), "app-3");
  assert.equal(claimName("web", taken), "web");
  const long = "x".repeat(63);
  const set = new Set([long]);
  const second = claimName(long, set);
  assert.equal(second, `${"x".repeat(61)}-2`);
  assert.ok(isDns1123Label(second));
  assert.ok(set.has(second));
});

test("Kubernetes quantities", () => {
  const valid: [string, number][] = [["10m", 0.01], ["1", 1], ["0.5", 0.5], ["64Mi", 64 * 2 ** 20], ["1Gi", 2 ** 30], ["2k", 2000], ["1e3", 1000], [".5", 0.5], ["1u", 1e-6]];
  for (const [text, value] of valid) assert.equal(parseQuantity(text), value, text);
  for (const text of ["", "64MB", "10 cores", "-1", "1.2.3", "Mi", "1mi", "0x10"]) assert.equal(parseQuantity(text), undefined, text);
  assert.match(quantityProblem("0")!, /more than zero/);
  assert.equal(quantityProblem("32Mi"), undefined);
});

test("setting annotations map onto the pod config; defaults come from the options", () => {
  const { config, warnings } = parsePodConfig({
    "tailcar.io/files": "/var/log/a.log",
    "tailcar.io/mode": "forward",
    "tailcar.io/forward-sink": "elasticsearch",
    "tailcar.io/forward-endpoint": "https://es.example:9200",
    "tailcar.io/format": "json",
    "tailcar.io/multiline": "^\\d{4}-",
    "tailcar.io/from": "end",
    "tailcar.io/image": "my/image:1",
    "tailcar.io/cpu-limit": "1",
    "other.io/ignored": "x",
  }, DEFAULT_INJECT_OPTIONS);
  assert.deepEqual(warnings, []);
  // Every per-pod setting not given keeps the cluster's value (a new row needs no edit here).
  const clusterValues = Object.fromEntries(POD_ROWS.map((r) => [r.key, DEFAULT_INJECT_OPTIONS[r.key]]));
  assert.deepEqual(config, {
    ...clusterValues,
    files: [{ path: "/var/log/a.log" }],
    image: "my/image:1",
    mode: "forward",
    format: "json",
    forwardSink: "elasticsearch",
    forwardEndpoint: "https://es.example:9200",
    multiline: "^\\d{4}-",
    from: "end",
    cpuLimit: "1",
  });
});

test("bad setting values warn Istio-style and fall back to the default", () => {
  const cases: [Record<string, string>, RegExp, Partial<Record<string, unknown>>][] = [
    [{ "tailcar.io/mode": "push" }, /^invalid value "push" for annotation "tailcar\.io\/mode": is not one of stream, forward/, { mode: "stream" }],
    [{ "tailcar.io/format": "xml" }, /"tailcar\.io\/format": is not one of raw, json/, { format: "raw" }],
    [{ "tailcar.io/from": "middle" }, /"tailcar\.io\/from"/, { from: undefined }],
    [{ "tailcar.io/image": "a b" }, /"tailcar\.io\/image": is not an image reference/, { image: DEFAULT_INJECT_OPTIONS.image }],
    [{ "tailcar.io/image": "repo:" }, /"tailcar\.io\/image": is not an image reference/, { image: DEFAULT_INJECT_OPTIONS.image }],
    [{ "tailcar.io/image-pull-policy": "always" }, /Always, IfNotPresent, Never/, { imagePullPolicy: "IfNotPresent" }],
    [{ "tailcar.io/forward-endpoint": "ftp://x" }, /must be an http or https URL/, { forwardEndpoint: undefined }],
    [{ "tailcar.io/forward-endpoint": "https://ops:50%zz@es:9200" }, /"tailcar\.io\/forward-endpoint": .*not valid percent-encoding/, { forwardEndpoint: undefined }],
    [{ "tailcar.io/forward-sink": "splunk" }, /elasticsearch, loki/, { forwardSink: undefined }],
    [{ "tailcar.io/format": "json", "tailcar.io/multiline": "(" }, /"tailcar\.io\/multiline": is not java, python or a regular expression/, { multiline: undefined }],
    [{ "tailcar.io/multiline": "java" }, /needs tailcar\.io\/format: json/, { multiline: undefined }],
    [{ "tailcar.io/mode": "forward", "tailcar.io/forward-sink": "loki" }, /mode forward needs a backend/, { mode: "stream" }],
    [{ "tailcar.io/max-files": "0" }, /"tailcar\.io\/max-files": is not a whole number from 1 to 10000/, { maxFiles: undefined }],
    [{ "tailcar.io/prefix-file-name": "yes" }, /"tailcar\.io\/prefix-file-name": is not true or false/, { prefixFileName: undefined }],
    [{ "tailcar.io/format": "json", "tailcar.io/prefix-file-name": "true" }, /"tailcar\.io\/prefix-file-name": prefix-file-name needs tailcar\.io\/format: raw and tailcar\.io\/mode: stream/, { prefixFileName: undefined }],
  ];
  for (const [annotations, pattern, expected] of cases) {
    const { config, warnings } = parsePodConfig(annotations, DEFAULT_INJECT_OPTIONS);
    assert.equal(warnings.length, 1, `${JSON.stringify(annotations)}: ${warnings.join(" | ")}`);
    assert.match(warnings[0]!, pattern);
    for (const [key, value] of Object.entries(expected)) assert.deepEqual((config as unknown as Record<string, unknown>)[key], value, key);
  }
});

test("resource annotations: bad quantities fall back; a request above its limit is lowered to it", () => {
  const bad = parsePodConfig({ "tailcar.io/memory-limit": "64MB", "tailcar.io/cpu-request": "fast" }, DEFAULT_INJECT_OPTIONS);
  assert.equal(bad.warnings.length, 2);
  assert.match(bad.warnings[0]!, /^invalid value "64MB" for annotation "tailcar\.io\/memory-limit": is not a Kubernetes quantity/);
  assert.deepEqual([bad.config.cpuRequest, bad.config.memoryLimit], [DEFAULT_INJECT_OPTIONS.cpuRequest, DEFAULT_INJECT_OPTIONS.memoryLimit]);
  const over = parsePodConfig({ "tailcar.io/cpu-request": "2", "tailcar.io/cpu-limit": "500m" }, DEFAULT_INJECT_OPTIONS);
  assert.equal(over.warnings.length, 1);
  assert.match(over.warnings[0]!, /"tailcar\.io\/cpu-request": the cpu request 2 is more than the limit 500m/);
  assert.equal(over.config.cpuRequest, "500m");
});

test("cluster options are not changed by a pod's annotations", () => {
  const options = structuredClone(DEFAULT_INJECT_OPTIONS);
  parsePodConfig({ "tailcar.io/memory-request": "1Mi", "tailcar.io/cpu-limit": "1" }, options);
  assert.deepEqual(options, DEFAULT_INJECT_OPTIONS);
});

test("unknown tailcar.io keys warn, suggesting the closest known key when it looks like a typo", () => {
  assert.equal(closestKnownKey("tailcar.io/fiels"), "tailcar.io/files");
  assert.equal(closestKnownKey("tailcar.io/memory-limits"), "tailcar.io/memory-limit");
  assert.equal(closestKnownKey("tailcar.io/bogus"), undefined);
  const { warnings } = parsePodConfig({ "tailcar.io/fiels": "/a/b.log", "tailcar.io/zzz": "1" }, DEFAULT_INJECT_OPTIONS);
  assert.equal(warnings.length, 2);
  assert.equal(warnings[0], 'unknown annotation "tailcar.io/fiels": did you mean "tailcar.io/files"?');
  assert.match(warnings[1]!, /^unknown annotation "tailcar\.io\/zzz"; known keys: tailcar\.io\/files, /);
});

test("docs/annotations.md documents every annotation key", async () => {
  const { readFileSync } = await import("node:fs");
  const { KNOWN_KEYS } = await import("../../webhook/annotations.ts");
  const doc = readFileSync(new URL("../../docs/annotations.md", import.meta.url), "utf8");
  const missing = KNOWN_KEYS.filter((key) => !doc.includes(`\`${key}\``));
  assert.deepEqual(missing, []);
});

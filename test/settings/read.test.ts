// The settings engine: precedence, one rule per kind wherever a value comes from, messages that
// name the source, and "did you mean" for a typo'd flag or key.
import assert from "node:assert/strict";
import { test } from "node:test";
import { bool, count, duration, list, oneOf, quantity, sizeUpTo, url } from "../../settings/kinds.ts";
import { Invalid } from "../../settings/kind.ts";
import { readSettings, SettingsError } from "../../settings/read.ts";
import { named, optional, setting } from "../../settings/row.ts";
import { SIDECAR_ROWS, toEnv } from "../../settings/sidecar-rows.ts";

const ROWS = [
  setting("cpuRequest", quantity, "10m", "cpu", named("cpuRequest", "T_")),
  optional("cpuLimit", quantity, "limit", named("cpuLimit", "T_")),
  setting("grace", duration, 10_000, "grace", named("grace", "T_")),
  setting("mode", oneOf(["stream", "forward"]), "stream", "mode", named("mode", "T_")),
  setting("selfSigned", bool, false, "tls", named("selfSigned", "T_")),
  setting("certIp", list(), [] as readonly string[], "ips", named("certIp", "T_")),
  setting("max", count(1, 100), 20, "max", named("max", "T_")),
  optional("endpoint", url(), "url", named("endpoint", "T_")),
] as const;

const read = (argv: string[], env: Record<string, string> = {}, file?: Record<string, unknown>) =>
  readSettings(ROWS, { argv, env, command: "tailcar test", ...(file && { file: { values: file, name: "--config f.yaml" } }) });

const refused = (fn: () => unknown, message: RegExp): void => assert.throws(fn, (e: Error) => e instanceof SettingsError && message.test(e.message));

test("flags win over the environment, which wins over the file, which wins over the defaults, setting by setting", () => {
  const v = read(["--cpu-request", "1"], { T_CPU_REQUEST: "2", T_GRACE: "3s" }, { cpuRequest: "3", grace: "4s", mode: "forward" });
  assert.deepEqual([v.cpuRequest, v.grace, v.mode, v.max, v.cpuLimit], ["1", 3000, "forward", 20, undefined]);
});

test("a value gets the same rule from a flag, a variable and the file, and the message names where it came from", () => {
  refused(() => read(["--cpu-request", "+100m"]), /^--cpu-request: "\+100m" is not a Kubernetes quantity/);
  refused(() => read([], { T_CPU_REQUEST: "+100m" }), /^T_CPU_REQUEST: "\+100m" is not a Kubernetes quantity/);
  refused(() => read([], {}, { cpuRequest: "+100m" }), /^--config f\.yaml: cpuRequest: "\+100m" is not a Kubernetes quantity/);
  refused(() => read(["--cpu-request=0"]), /^--cpu-request: "0" must be more than zero/);
  refused(() => read(["--mode", "tail"]), /^--mode: "tail" is not one of stream, forward/);
  refused(() => read(["--grace", "soon"]), /^--grace: "soon" is not a duration/);
  refused(() => read(["--max", "0"]), /^--max: "0" is not a whole number from 1 to 100/);
  refused(() => read(["--endpoint", "ftp://u:secret@es:9200"]), /^--endpoint: "ftp:\/\/u:\*\*\*@es:9200" must be an http or https URL/);
  for (const bare of ["u:s3cret@es:9200", "u:s3cret@es:9200/x@y"]) assert.throws(() => read(["--endpoint", bare]), (e: Error) => e instanceof SettingsError && !e.message.includes("s3cret"), bare);
});

test("a URL's password never reaches the message that refuses it", () => {
  assert.throws(() => read(["--endpoint", "http://u:s3cret%zz@es:9200"]), (e: Error) => !e.message.includes("s3cret") && /percent-encoding/.test(e.message));
});

test("an unknown flag is refused with the nearest known one; an unknown file key too", () => {
  refused(() => read(["--cpu-requst", "1"]), /^unknown option "--cpu-requst": did you mean --cpu-request\? \(see tailcar test --help\)$/);
  refused(() => read(["--zzzzzzzzzz"]), /^unknown option "--zzzzzzzzzz" \(see tailcar test --help\)$/);
  refused(() => read([], {}, { cpuRequst: "1" }), /^--config f\.yaml: unknown setting "cpuRequst": did you mean "cpuRequest"\?/);
  refused(() => read(["stray"]), /unexpected argument "stray"/);
});

test("a flag without its value says so instead of taking the next flag as the value", () => {
  refused(() => read(["--cpu-request"]), /^--cpu-request needs a value$/);
  refused(() => read(["--cpu-request", "--mode", "forward"]), /^--cpu-request needs a value$/);
});

test("a switch alone means true; =false, a following true/false and --no- set it", () => {
  assert.equal(read(["--self-signed"]).selfSigned, true);
  assert.equal(read(["--self-signed=false"]).selfSigned, false);
  assert.equal(read(["--self-signed", "false"]).selfSigned, false);
  assert.equal(read(["--no-self-signed"], { T_SELF_SIGNED: "true" }).selfSigned, false);
  refused(() => read(["--self-signed=maybe"]), /--self-signed: "maybe" is not true or false/);
});

test("a list adds up repeated flags and comma-separated items; an optional setting given empty is unset", () => {
  assert.deepEqual(read(["--cert-ip", "10.0.0.1,10.0.0.2", "--cert-ip=10.0.0.3"]).certIp, ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
  assert.deepEqual(read([], {}, { certIp: ["a", "b"] }).certIp, ["a", "b"]);
  assert.equal(read(["--cpu-limit", ""], { T_CPU_LIMIT: "1" }).cpuLimit, undefined);
});

test("the sidecar reads back exactly what toEnv writes for it", () => {
  const written = { files: ["/a.log", "/b.log"], checkpointDir: "/cp", from: "end", format: "json", multiline: "java", quietPollIntervalMs: 2500, maxLineBytes: 65536, sink: "loki", endpoint: "http://u:p@loki:3100", metricsPort: 0 } as const;
  const env = Object.fromEntries(toEnv(written).map((e) => [e.name, e.value]));
  const back = readSettings(SIDECAR_ROWS, { env, command: "tailcar sidecar" });
  for (const [key, value] of Object.entries(written)) assert.deepEqual(back[key as keyof typeof back], value, key);
  assert.equal(back.pollIntervalMs, 250);
});

test("a bounded size reads suffixes and refuses more than its bound and less than a byte", () => {
  const kind = sizeUpTo(16 * 1024 * 1024);
  assert.equal(kind.parse("4Mi"), 4 * 1024 * 1024);
  assert.equal(kind.parse("16Mi"), 16 * 1024 * 1024);
  assert.equal((kind.parse("17Mi") as Invalid).problem, "is more than 16Mi");
  assert.ok(kind.parse("0") instanceof Invalid);
  assert.ok(kind.parse("1MB") instanceof Invalid);
  assert.equal(kind.format(4 * 1024 * 1024), "4Mi");
});

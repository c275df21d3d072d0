// The drift between the webhook's own settings and the pod annotations of the same settings, as a
// new user found it with the built CLI (issue 16). Each case failed before both read one set of rows.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { parseAllDocuments, stringify } from "yaml";
import { parseSidecarConfig } from "../../sidecar/config.ts";
import { parsePodConfig } from "../../webhook/annotations.ts";
import { inject } from "../../webhook/inject.ts";
import { injectOptions, type InjectOptions } from "../../webhook/options.ts";
import type { Container, Pod } from "../../webhook/pod-types.ts";
import { parseWebhookSettings } from "../../webhook/settings.ts";
import { packageVersion } from "../../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
const skip = !existsSync(CLI) && "run npm run build first";

/** The webhook's injection options for these flags, or the start-up error. */
function defaults(argv: string[]): InjectOptions | Error {
  try {
    return injectOptions({ ...parseWebhookSettings(["--self-signed", ...argv], {}).inject, sidecarMode: "native" }, VERSION);
  } catch (e) {
    return e as Error;
  }
}

function pod(annotations: Record<string, string> = {}): Pod {
  return {
    apiVersion: "v1", kind: "Pod",
    metadata: { name: "app", annotations: { "tailcar.io/files": "/var/log/app.log", ...annotations } },
    spec: { containers: [{ name: "app", image: "busybox", volumeMounts: [{ name: "logs", mountPath: "/var/log" }] }], volumes: [{ name: "logs", emptyDir: {} }] },
  };
}

const sidecarOf = (p: Pod): Container => [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].find((c) => c.name === "app-log")!;

test("tailcar webhook --cpu-request +100m --memory-request 0 --forward-endpoint ftp://es:9200 stops at start-up, exit 2, naming the flag", { skip, timeout: 20_000 }, () => {
  const r = spawnSync(process.execPath, [CLI, "webhook", "--self-signed", "--port", "0", "--cpu-request", "+100m", "--memory-request", "0", "--forward-endpoint", "ftp://es:9200"], { encoding: "utf8", timeout: 10_000 });
  assert.equal(r.status, 2, r.stderr);
  // Every bad value at once, one a line, each naming its flag.
  assert.match(r.stderr, /^tailcar webhook: --cpu-request: "\+100m" is not a Kubernetes quantity/m);
  assert.match(r.stderr, /^tailcar webhook: --memory-request: "0" must be more than zero$/m);
  assert.match(r.stderr, /^tailcar webhook: --forward-endpoint: "ftp:\/\/es:9200" must be an http or https URL/m);
  for (const [flag, value, problem] of [["--cpu-request", "+100m", /is not a Kubernetes quantity/], ["--memory-request", "0", /must be more than zero/], ["--forward-endpoint", "ftp://es:9200", /must be an http or https URL/]] as const) {
    const options = defaults([flag, value]);
    assert.ok(options instanceof Error, `${flag} ${value} was accepted as a default`);
    assert.match(options.message, new RegExp(`^${flag}: ${JSON.stringify(value).replace(/[+/]/g, "\\$&")} ${problem.source}`));
  }
});

// Values one of the two places used to accept and the other refuse, and some both accept.
const VALUES: Record<string, string[]> = {
  "cpu-request": ["+100m", "0", "1e3", "100m", "0.5", ".5", "-1", "1Ki", "fast"],
  "memory-request": ["0", "64Mi", "64MB", "+1Gi", "1e9"],
  "cpu-limit": ["0", "2", "+2"],
  "memory-limit": ["128Mi", "0Mi"],
  "forward-endpoint": ["ftp://es:9200", "http://es:9200", "https://u:p@es", "es:9200", "http://u:50%zz@es:9200"],
  "forward-sink": ["loki", "splunk"],
  "format": ["json", "JSON"],
  "mode": ["stream", "tail"],
  "image": ["busybox:1", "Busybox"],
  "image-pull-policy": ["Always", "always"],
};

test("a value is valid as the webhook's default exactly when it is valid as the pod's annotation", () => {
  const base = defaults([]);
  assert.ok(!(base instanceof Error));
  for (const [name, values] of Object.entries(VALUES)) {
    for (const value of values) {
      // Refused for the value itself, not for a rule between it and another default (request above limit).
      const refused = defaults([`--${name}`, value]);
      const asFlag = !(refused instanceof Error && refused.message.startsWith(`--${name}: "`));
      const { warnings } = parsePodConfig({ [`tailcar.io/${name}`]: value }, base);
      const asAnnotation = !warnings.some((w) => w.includes(`for annotation "tailcar.io/${name}"`) && !w.includes("more than the limit"));
      assert.equal(asFlag, asAnnotation, `${name} ${JSON.stringify(value)}: as a flag ${asFlag ? "accepted" : "refused"}, as an annotation ${asAnnotation ? "accepted" : "refused"}`);
    }
  }
});

test("with --cpu-request +100m --cpu-limit 1 a pod gets no warning about an annotation it does not carry, and its request is not rewritten", () => {
  for (const argv of [["--cpu-request", "+100m", "--cpu-limit", "1"], ["--cpu-request", "2", "--cpu-limit", "1"], ["--cpu-request", "100m", "--cpu-limit", "1"]]) {
    const options = defaults(argv);
    if (options instanceof Error) {
      assert.match(options.message, /^--cpu-request/, argv.join(" "));
      continue;
    }
    const result = inject(pod(), options, { version: VERSION });
    assert.deepEqual(result.warnings, [], argv.join(" "));
    assert.equal(sidecarOf(result.pod).resources?.requests?.["cpu"], argv[1], argv.join(" "));
  }
});

test("with --mode forward and no backend as defaults, a pod is not warned about a tailcar.io/mode it does not carry: the webhook refuses them at start-up", () => {
  for (const argv of [["--mode", "forward"], ["--mode", "forward", "--forward-sink", "loki"]]) {
    const options = defaults(argv);
    if (options instanceof Error) {
      assert.match(options.message, /^--mode, --forward-sink, --forward-endpoint: mode forward needs a backend \(--forward-sink and --forward-endpoint\)$/, argv.join(" "));
      continue;
    }
    assert.deepEqual(inject(pod(), options, { version: VERSION }).warnings, [], argv.join(" "));
  }
});

test("a pod's invalid tailcar.io/forward-endpoint never falls back to a default the sidecar would refuse", () => {
  for (const endpoint of ["ftp://es:9200", "http://es:9200"]) {
    const options = defaults(["--mode", "forward", "--forward-sink", "elasticsearch", "--forward-endpoint", endpoint]);
    if (options instanceof Error) continue;
    const result = inject(pod({ "tailcar.io/forward-endpoint": "not a url" }), options, { version: VERSION });
    const env = Object.fromEntries((sidecarOf(result.pod).env ?? []).filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    assert.doesNotThrow(() => parseSidecarConfig([], env), `default ${endpoint}: the injected sidecar would exit at start`);
  }
});

test("tailcar inject accepts --forward-sink, --cpu-request, --checkpoint-volume-size-limit and the webhook's other injection flags", { skip, timeout: 20_000 }, () => {
  const args = ["--mode", "forward", "--forward-sink", "loki", "--forward-endpoint", "http://loki:3100", "--cpu-request", "20m", "--memory-request", "32Mi",
    "--cpu-limit", "1", "--memory-limit", "64Mi", "--checkpoint-volume-size-limit", "16Mi"];
  const r = spawnSync(process.execPath, [CLI, "inject", "-f", "-", ...args], { input: stringify(pod()), encoding: "utf8", timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  const [out] = parseAllDocuments(r.stdout).map((d) => d.toJS() as Pod);
  const sidecar = sidecarOf(out!);
  assert.deepEqual(sidecar.resources, { requests: { cpu: "20m", memory: "32Mi" }, limits: { cpu: "1", memory: "64Mi" } });
  assert.ok(sidecar.env?.some((e) => e.name === "TAILCAR_SINK" && e.value === "loki"));
  assert.equal(out!.spec?.volumes?.find((v) => v.emptyDir?.sizeLimit !== undefined)?.emptyDir?.sizeLimit, "16Mi");
});

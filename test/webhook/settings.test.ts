import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseInjectArgs } from "../../webhook/inject-command.ts";
import { defaultInjectOptions, injectOptions } from "../../webhook/options.ts";
import { DEFAULT_INJECT_OPTIONS, VERSION } from "./default-options.ts";
import { parseWebhookSettings } from "../../webhook/settings.ts";
import { WEBHOOK_ROWS } from "../../webhook/webhook-rows.ts";
import { parseServerVersion, sidecarModeForVersion } from "../../webhook/sidecar-mode.ts";

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

const files = (map: Record<string, string>) => (path: string): string => {
  const text = map[path];
  if (text === undefined) throw new Error(`ENOENT: ${path}`);
  return text;
};

test("defaults: port 8443, all interfaces, sidecar mode auto, the injector's defaults", () => {
  const s = parseWebhookSettings(["--self-bootstrap"], {});
  assert.equal(s.port, 8443);
  assert.equal(s.address, "");
  assert.equal(s.sidecarMode, "auto");
  assert.equal(s.namespace, "tailcar-system");
  // No image set: the webhook's command gives its own version's (injectOptions).
  assert.equal(s.inject.image, undefined);
  assert.deepEqual(injectOptions({ ...s.inject, sidecarMode: "native" }, VERSION), DEFAULT_INJECT_OPTIONS);
});

test("the default sidecar image is the given version's, for the webhook's defaults and tailcar inject alike; a set image is kept", () => {
  const image = "ghcr.io/tailcar/tailcar-sidecar:9.8.7-given";
  assert.equal(defaultInjectOptions("9.8.7-given").image, image);
  assert.equal(injectOptions({ ...parseWebhookSettings(["--self-signed"], {}).inject, sidecarMode: "native" }, "9.8.7-given").image, image);
  assert.equal(parseInjectArgs(["-f", "-"], "9.8.7-given").options.image, image);
  assert.equal(parseInjectArgs(["-f", "-", "--image", "example.com/x:1"], "9.8.7-given").options.image, "example.com/x:1");
  assert.equal(injectOptions({ ...parseWebhookSettings(["--self-signed", "--image", "example.com/x:1"], {}).inject, sidecarMode: "native" }, "9.8.7-given").image, "example.com/x:1");
});

test("--self-signed listens on 127.0.0.1 unless --address says otherwise", () => {
  assert.equal(parseWebhookSettings(["--self-signed", "--port", "0"], {}).address, "127.0.0.1");
  assert.equal(parseWebhookSettings(["--self-signed", "--address=0.0.0.0"], {}).address, "0.0.0.0");
});

test("precedence is flags > environment > config file > defaults, setting by setting", () => {
  const read = files({ "/c.yaml": "image: from-file\nformat: json\nmemoryLimit: 1Gi\ncertIp: [10.0.0.1, 10.0.0.2]\n" });
  const env = { TAILCAR_WEBHOOK_CONFIG: "/c.yaml", TAILCAR_WEBHOOK_IMAGE: "from-env", TAILCAR_WEBHOOK_FORMAT: "raw", TAILCAR_WEBHOOK_SELF_BOOTSTRAP: "true" };
  const s = parseWebhookSettings(["--image", "from-flag"], env, read);
  assert.equal(s.inject.image, "from-flag");
  assert.equal(s.inject.format, "raw");
  assert.equal(s.inject.memoryLimit, "1Gi");
  assert.deepEqual(s.certIps, ["10.0.0.1", "10.0.0.2"]);
  assert.equal(s.selfBootstrap, true);
});

test("every InjectOptions field can be set by flag", () => {
  const s = parseWebhookSettings(
    ["--self-signed", "--image=i:1", "--image-pull-policy", "Always", "--sidecar-mode", "classic", "--mode", "forward", "--format", "json",
      "--forward-sink", "loki", "--forward-endpoint", "http://loki:3100", "--cpu-request", "5m", "--memory-request", "32Mi", "--cpu-limit", "1",
      "--memory-limit", "64Mi", "--checkpoint-volume-size-limit", "4Mi", "--max-sidecars-per-pod", "3", "--namespace", "logging"],
    {},
  );
  assert.equal(s.sidecarMode, "classic");
  const { sidecarMode: _resolvedLater, ...defaults } = DEFAULT_INJECT_OPTIONS;
  assert.deepEqual(s.inject, {
    ...defaults,
    image: "i:1", imagePullPolicy: "Always", mode: "forward", format: "json", forwardSink: "loki", forwardEndpoint: "http://loki:3100",
    cpuRequest: "5m", memoryRequest: "32Mi", cpuLimit: "1", memoryLimit: "64Mi", checkpointVolumeSizeLimit: "4Mi",
    maxSidecarsPerPod: 3, excludedNamespaces: ["kube-system", "logging"],
  });
});

test("by default a pod gets at most 20 sidecars, and kube-system and tailcar-system are never injected", () => {
  const s = parseWebhookSettings(["--self-signed"], {});
  assert.equal(s.inject.maxSidecarsPerPod, 20);
  assert.deepEqual(s.inject.excludedNamespaces, ["kube-system", "tailcar-system"]);
  // The Deployment sets TAILCAR_WEBHOOK_NAMESPACE from the pod's own namespace.
  assert.deepEqual(parseWebhookSettings(["--self-signed"], { TAILCAR_WEBHOOK_NAMESPACE: "logs" }).inject.excludedNamespaces, ["kube-system", "logs"]);
});

for (const image of ["busybox", "i:1", "localhost:5000/team/app:v1.2_3", "[::1]:5000/x", `ghcr.io/a/b:1@sha256:${"ab".repeat(32)}`]) {
  test(`the image setting accepts the reference ${image}`, () => {
    assert.equal(parseWebhookSettings(["--self-signed", "--image", image], {}).inject.image, image);
  });
}

const bad: [string, string[], Record<string, string>, RegExp][] = [
  ["no TLS source", [], {}, /no TLS source/],
  ["two TLS sources", ["--self-signed", "--self-bootstrap"], {}, /choose one TLS source/],
  ["a cert without key", ["--tls-cert", "c.pem"], {}, /--tls-cert and --tls-key go together/],
  ["an unknown flag", ["--self-signed", "--colour"], {}, /unknown option "--colour"/],
  ["a bad pull policy", ["--self-signed", "--image-pull-policy", "Sometimes"], {}, /--image-pull-policy: "Sometimes" is not one of Always, IfNotPresent, Never/],
  ["a bad quantity in the environment", ["--self-signed"], { TAILCAR_WEBHOOK_MEMORY_LIMIT: "lots" }, /TAILCAR_WEBHOOK_MEMORY_LIMIT: "lots" is not a Kubernetes quantity/],
  ["a bad port", ["--self-signed", "--port", "99999"], {}, /--port: "99999" is not a port/],
  ["a flag without its value", ["--self-signed", "--image"], {}, /--image needs a value/],
  ["an image with a space", ["--self-signed", "--image", "bad image"], {}, /--image: "bad image" is not an image reference/],
  ["an image with an empty tag", ["--self-signed", "--image=repo:"], {}, /--image: "repo:" is not an image reference/],
  ["an image with uppercase in its path", ["--self-signed"], { TAILCAR_WEBHOOK_IMAGE: "ghcr.io/Team/app" }, /TAILCAR_WEBHOOK_IMAGE: "ghcr.io\/Team\/app" is not an image reference/],
  ["an image with a short digest", ["--self-signed", "--image", "app@sha256:abc"], {}, /--image: "app@sha256:abc" is not an image reference/],
  ["a tag longer than 128 characters", ["--self-signed", "--image", `app:${"t".repeat(129)}`], {}, /--image: "app:t+" is not an image reference/],
  ["a maximum of 0 sidecars", ["--self-signed", "--max-sidecars-per-pod", "0"], {}, /--max-sidecars-per-pod: "0" is not a whole number from 1 to 100/],
  ["a maximum above the ceiling", ["--self-signed"], { TAILCAR_WEBHOOK_MAX_SIDECARS_PER_POD: "1000" }, /TAILCAR_WEBHOOK_MAX_SIDECARS_PER_POD: "1000" is not a whole number from 1 to 100/],
  ["a fractional maximum", ["--self-signed", "--max-sidecars-per-pod", "2.5"], {}, /--max-sidecars-per-pod: "2.5" is not a whole number/],
];
for (const [name, argv, env, message] of bad) {
  test(`${name} is rejected with a message naming the setting`, () => {
    assert.throws(() => parseWebhookSettings(argv, env), message);
  });
}

test("a config file with an unknown key or bad YAML is rejected naming the file", () => {
  assert.throws(() => parseWebhookSettings(["--self-signed", "--config", "/c"], {}, files({ "/c": "imagee: x\n" })), /--config \/c: unknown setting "imagee"/);
  assert.throws(() => parseWebhookSettings(["--self-signed", "--config", "/c"], {}, files({ "/c": "a: [\n" })), /--config \/c:/);
  assert.throws(() => parseWebhookSettings(["--self-signed", "--config", "/c"], {}, files({ "/c": "- 1\n" })), /must be a mapping/);
});

test("docs/webhook.md documents every flag and environment variable", () => {
  const doc = readFileSync(new URL("../../docs/webhook.md", import.meta.url), "utf8");
  for (const s of WEBHOOK_ROWS.filter((r) => r.flag !== undefined)) {
    assert.ok(doc.includes(`\`${s.flag}\``), `${s.flag} missing from docs/webhook.md`);
    assert.ok(doc.includes(`\`${s.env}\``), `${s.env} missing from docs/webhook.md`);
  }
});

const versions: [object, "native" | "classic" | undefined][] = [
  [{ major: "1", minor: "29", gitVersion: "v1.29.0" }, "native"],
  [{ gitVersion: "v1.34.2" }, "native"],
  [{ major: "1", minor: "28+", gitVersion: "v1.28.9-eks-036c24b" }, "classic"],
  [{ major: "1", minor: "30+" }, "native"],
  [{ major: "2", minor: "0" }, "native"],
  [{ gitVersion: "v0.0.0-master" }, "classic"],
  [{ major: "", minor: "" }, undefined],
];
for (const [version, mode] of versions) {
  test(`sidecar mode auto: API server ${JSON.stringify(version)} → ${mode ?? "unknown (classic)"}`, () => {
    assert.equal(sidecarModeForVersion(version), mode);
  });
}

test("parseServerVersion prefers gitVersion", () => {
  assert.deepEqual(parseServerVersion({ major: "1", minor: "20", gitVersion: "v1.31.1" }), { major: 1, minor: 31 });
});

test("tailcar webhook --image 'bad image' stops at start-up, exit 2, naming the flag", { skip: !existsSync(CLI) && "run npm run build first", timeout: 20_000 }, () => {
  const r = spawnSync(process.execPath, [CLI, "webhook", "--self-signed", "--port", "0", "--image", "bad image"], { encoding: "utf8", timeout: 10_000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /^tailcar webhook: --image: "bad image" is not an image reference/);
});

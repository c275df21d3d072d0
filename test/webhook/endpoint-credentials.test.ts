// A forward endpoint with user:password@ (the sidecars send it as basic auth) never shows its
// password in the webhook's output: not in the start-up line, not in the warning about a bad
// endpoint annotation (which kubectl shows too), not in a bad setting's error. The injected pod
// spec does hold it: that is where the sidecar reads it (docs/forwarding.md says so).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { test } from "node:test";
import type { Pod } from "../../webhook/pod-types.ts";
import type { AdmissionReviewResponse } from "../../webhook/review.ts";
import { call, podCreate } from "./https-helpers.ts";

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;
const skip = !existsSync(CLI) && "run npm run build first";

const DEFAULT_SECRET = "default-Secret-4e1a";
const ANNOTATION_SECRET = "annotation-Secret-93bd";
const BAD_SECRET = "bad-Secret-07c2";

function secretForms(user: string, password: string): string[] {
  return [password, encodeURIComponent(password), Buffer.from(`${user}:${password}`).toString("base64")];
}

function pod(name: string, endpoint: string): Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, annotations: { "tailcar.io/files": "/var/log/app.log", "tailcar.io/mode": "forward", "tailcar.io/forward-endpoint": endpoint } },
    spec: { containers: [{ name: "app", image: "busybox", volumeMounts: [{ name: "logs", mountPath: "/var/log" }] }], volumes: [{ name: "logs", emptyDir: {} }] },
  };
}

test("the webhook's start-up line, admission log and warnings show endpoint credentials redacted", { skip, timeout: 30_000 }, async () => {
  const child = spawn(
    process.execPath,
    [CLI, "webhook", "--self-signed", "--port", "0", "--sidecar-mode", "native", "--forward-sink", "loki", "--forward-endpoint", `http://ops:${DEFAULT_SECRET}@loki.logging:3100`],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  try {
    let listening: { port: number; injectOptions: { forwardEndpoint?: string } } | undefined;
    let caFile: string | undefined;
    for (let i = 0; i < 300 && !listening; i++) {
      await new Promise((r) => setTimeout(r, 50));
      for (const line of out.split("\n").filter((l) => l.startsWith("{"))) {
        const l = JSON.parse(line) as { msg: string; port: number; caFile?: string; injectOptions: { forwardEndpoint?: string } };
        if (l.msg === "listening") listening = l;
        if (l.msg === "self-signed CA written") caFile = l.caFile;
      }
    }
    assert.ok(listening && caFile, `no listening line: ${out}`);
    assert.equal(listening.injectOptions.forwardEndpoint, "http://ops:***@loki.logging:3100");
    const ca = readFileSync(caFile, "utf8");

    // A valid endpoint with credentials: injected as it is (the sidecar needs it), never logged.
    const good = await call(listening.port, ca, "POST", "/mutate", JSON.stringify(podCreate("good", pod("good", `https://app:${ANNOTATION_SECRET}@es.logging:9200`), { namespace: "shop" })));
    const goodPatch = Buffer.from(good.json<AdmissionReviewResponse>().response.patch ?? "", "base64").toString("utf8");
    assert.ok(goodPatch.includes(ANNOTATION_SECRET), "the sidecar's TAILCAR_ENDPOINT holds the credentials");
    // A bad one (not http/https): the warning echoes the value, redacted, to kubectl and the log.
    const bad = await call(listening.port, ca, "POST", "/mutate", JSON.stringify(podCreate("bad", pod("bad", `ftp://app:${BAD_SECRET}@files.logging`), { namespace: "shop" })));
    const warnings = bad.json<AdmissionReviewResponse>().response.warnings ?? [];
    assert.ok(warnings.some((w) => w.includes("ftp://app:***@files.logging")), warnings.join("\n"));
    assert.ok(!bad.text.includes(BAD_SECRET), bad.text);

    child.kill("SIGTERM");
    assert.equal(await exited, 0, out);
    const logged = out.split("\n").find((l) => l.includes('"msg":"admission"') && l.includes('"uid":"bad"'));
    assert.ok(logged?.includes("ftp://app:***@files.logging"), `the admission log line carries the redacted warning:\n${out}`);
    for (const [user, password] of [["ops", DEFAULT_SECRET], ["app", ANNOTATION_SECRET], ["app", BAD_SECRET]] as const) {
      for (const form of secretForms(user, password)) assert.ok(!out.includes(form), `the webhook's output holds ${JSON.stringify(form)}:\n${out}`);
    }
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("a --forward-endpoint the sidecar would refuse is refused by the webhook, without printing its password", { skip, timeout: 30_000 }, () => {
  const cases: [string, RegExp][] = [
    [`http://ops:${DEFAULT_SECRET}@loki:99999`, /--forward-endpoint: "http:\/\/ops:\*\*\*@loki:99999" is not a URL/],
    [`ftp://ops:${DEFAULT_SECRET}@loki`, /--forward-endpoint: "ftp:\/\/ops:\*\*\*@loki" must be an http or https URL, not one with the scheme "ftp:"/],
    [`http://ops:${DEFAULT_SECRET}%zz@loki:3100`, /--forward-endpoint: "http:\/\/ops:\*\*\*@loki:3100" cannot be used: the password in the endpoint URL is not valid percent-encoding/],
    // Written without its scheme, "user:password@host" parses as the scheme "ops:": still hidden.
    [`ops:${DEFAULT_SECRET}@loki:3100`, /--forward-endpoint: "\*\*\*@loki:3100" must be an http or https URL/],
  ];
  for (const [endpoint, message] of cases) {
    const res = spawnSync(process.execPath, [CLI, "webhook", "--self-signed", "--forward-endpoint", endpoint], { encoding: "utf8", timeout: 10_000 });
    assert.equal(res.status, 2, res.stderr);
    assert.match(res.stderr, message);
    assert.ok(!`${res.stdout}${res.stderr}`.includes(DEFAULT_SECRET), res.stderr);
  }
});

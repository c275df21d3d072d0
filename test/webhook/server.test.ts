import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:tls";
import { loadGoldenCases } from "../golden/fixtures.ts";
import type { InjectOptions } from "../../webhook/options.ts";
import { DEFAULT_INJECT_OPTIONS } from "./default-options.ts";
import type { Operation } from "../../webhook/patch.ts";
import { applyPodPatch } from "./apply-patch.ts";
import type { Pod } from "../../webhook/pod-types.ts";
import { shortenWarning, type AdmissionReviewResponse } from "../../webhook/review.ts";
import { call, podCreate, review, sample, startTestServer, type TestServer } from "./https-helpers.ts";

const application: Pod = {
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "application", annotations: { "tailcar.io/files": "/var/log/error.log,/var/log/access.log" } },
  spec: { containers: [{ name: "app", image: "busybox", volumeMounts: [{ name: "varlog", mountPath: "/var/log" }] }], volumes: [{ name: "varlog", emptyDir: {} }] },
};

function decodePatch(body: AdmissionReviewResponse): Operation[] {
  const { patch, patchType } = body.response;
  if (patch === undefined) return [];
  assert.equal(patchType, "JSONPatch");
  return JSON.parse(Buffer.from(patch, "base64").toString("utf8")) as Operation[];
}

describe("golden fixtures through POST /mutate over HTTPS", () => {
  const servers = new Map<string, TestServer>();
  const serverFor = async (options: InjectOptions): Promise<TestServer> => {
    const key = JSON.stringify(options);
    let s = servers.get(key);
    if (!s) servers.set(key, (s = await startTestServer(options)));
    return s;
  };
  after(async () => {
    for (const s of servers.values()) await s.close();
  });
  const cases = loadGoldenCases().filter((c) => c.expected !== undefined);
  test("there are golden cases to check", () => assert.ok(cases.length >= 5, `only ${cases.length} golden cases`));
  for (const c of cases) {
    test(`golden case ${c.name}: the decoded patch applied to the input gives the expected pod`, async () => {
      const s = await serverFor(c.options);
      const extra = c.context.namespace === undefined ? {} : { namespace: c.context.namespace };
      const reply = await call(s.port, s.ca, "POST", "/mutate", JSON.stringify(podCreate(`uid-${c.name}`, c.input, extra)));
      assert.equal(reply.status, 200, reply.text);
      const body = reply.json<AdmissionReviewResponse>();
      assert.equal(body.response.uid, `uid-${c.name}`);
      assert.equal(body.response.allowed, true);
      assert.deepEqual(applyPodPatch(c.input, decodePatch(body)), c.expected!.pod);
      assert.deepEqual(body.response.warnings ?? [], c.expected!.warnings.map(shortenWarning));
    });
  }
});

describe("POST /mutate", () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer({ ...DEFAULT_INJECT_OPTIONS, sidecarMode: "native" });
  });
  after(() => s.close());
  const post = (body: string | Buffer) => call(s.port, s.ca, "POST", "/mutate", body);

  const bad: [string, string, RegExp][] = [
    ["malformed JSON", '{"apiVersion": ', /not valid JSON/],
    ["an empty body", "", /apiVersion must be "admission.k8s.io\/v1", got nothing/],
    ["a JSON string", '"hi"', /body must be a JSON object/],
    ["a v1beta1 review", JSON.stringify({ ...podCreate("u", application), apiVersion: "admission.k8s.io/v1beta1" }), /apiVersion must be/],
    ["a wrong kind", JSON.stringify({ ...podCreate("u", application), kind: "Pod" }), /kind must be "AdmissionReview"/],
    ["no request", JSON.stringify({ apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview" }), /request is missing/],
    ["no uid", JSON.stringify(review({ kind: { version: "v1", kind: "Pod" } })), /request.uid is missing/],
    ["a Pod CREATE without object", JSON.stringify(podCreate("u", undefined)), /request.object is missing/],
  ];
  for (const [name, body, message] of bad) {
    test(`${name} gets HTTP 400 with a JSON error saying what is wrong`, async () => {
      const reply = await post(body);
      assert.equal(reply.status, 400, reply.text);
      assert.match(reply.json<{ error: string }>().error, message);
    });
  }

  test("a body above 3 MiB gets HTTP 413 with the limit in the message", async () => {
    const huge = JSON.stringify(podCreate("u", { ...application, metadata: { name: "x", annotations: { big: "x".repeat(3 * 1024 * 1024) } } }));
    const reply = await post(huge);
    assert.equal(reply.status, 413);
    assert.match(reply.json<{ error: string }>().error, /above the limit of 3145728 bytes/);
  });

  const notOurs: [string, Record<string, unknown>][] = [
    ["an UPDATE", { operation: "UPDATE" }],
    ["a DELETE", { operation: "DELETE" }],
    ["a subresource", { subResource: "status" }],
    ["a Deployment", { kind: { group: "apps", version: "v1", kind: "Deployment" }, resource: { group: "apps", version: "v1", resource: "deployments" } }],
  ];
  for (const [name, extra] of notOurs) {
    test(`${name} is allowed unchanged`, async () => {
      const reply = await post(JSON.stringify(podCreate("u-x", application, extra)));
      assert.equal(reply.status, 200);
      assert.deepEqual(reply.json(), { apiVersion: "admission.k8s.io/v1", kind: "AdmissionReview", response: { uid: "u-x", allowed: true } });
    });
  }

  test("an answer quoting non-ASCII input arrives as the same UTF-8 JSON, with its byte length", async () => {
    // The warning quotes the annotation's value, "é ✓ 😀"; ASCII answers take another write path.
    const pod = { ...application, metadata: { ...application.metadata, annotations: { ...application.metadata!.annotations, "tailcar.io/format": "é ✓ 😀" } } };
    const reply = await post(JSON.stringify(podCreate("u-é", pod)));
    assert.equal(reply.status, 200);
    assert.equal(Number(reply.headers["content-length"]), Buffer.byteLength(reply.text));
    const body = reply.json<AdmissionReviewResponse>();
    assert.equal(body.response.uid, "u-é");
    assert.ok(body.response.warnings?.some((w) => w.includes("é ✓ 😀")), JSON.stringify(body.response.warnings));
    assert.ok(decodePatch(body).length > 0);
  });

  test("dryRun gets the same mutation, and is not counted as sidecars injected", async () => {
    const before = sample(await s.metrics.registry.metrics(), "tailcar_webhook_sidecars_injected_total");
    const dry = (await post(JSON.stringify(podCreate("u-dry", application, { dryRun: true, namespace: "ns" })))).json<AdmissionReviewResponse>();
    const wet = (await post(JSON.stringify(podCreate("u-wet", application, { namespace: "ns" })))).json<AdmissionReviewResponse>();
    assert.ok(dry.response.patch !== undefined);
    assert.equal(dry.response.patch, wet.response.patch);
    const afterwards = sample(await s.metrics.registry.metrics(), "tailcar_webhook_sidecars_injected_total");
    assert.equal(afterwards - before, 2, "only the non-dry-run request's two sidecars count");
  });

  test("/metrics shows requests by result, sidecars, warnings and latency moving", async () => {
    const get = async () => (await call(s.port, s.ca, "GET", "/metrics")).text;
    const m0 = await get();
    await post(JSON.stringify(podCreate("m1", application, { namespace: "ns" })));
    await post(JSON.stringify(podCreate("m2", application, { operation: "UPDATE" })));
    await post("{");
    await post(JSON.stringify(podCreate("m3", { ...application, metadata: { name: "plain" } })));
    const m1 = await get();
    const delta = (series: string) => sample(m1, series) - sample(m0, series);
    assert.equal(delta('tailcar_webhook_admission_requests_total{result="injected"}'), 1);
    assert.equal(delta('tailcar_webhook_admission_requests_total{result="ignored"}'), 1);
    assert.equal(delta('tailcar_webhook_admission_requests_total{result="invalid"}'), 1);
    assert.equal(delta('tailcar_webhook_admission_requests_total{result="skipped"}'), 1);
    assert.equal(delta('tailcar_webhook_pods_skipped_total{reason="no-files-annotation"}'), 1);
    assert.equal(delta("tailcar_webhook_sidecars_injected_total"), 2);
    assert.equal(delta('tailcar_webhook_admission_duration_seconds_count{result="injected"}'), 1);
    assert.match(m1, /^process_cpu_user_seconds_total /m, "process metrics on the same registry");
  });

  test("each admission is one JSON log line with uid, namespace, name, result, injected and ms", async () => {
    await post(JSON.stringify(podCreate("log-1", application, { namespace: "team" })));
    const line = s.logs.find((l) => l["uid"] === "log-1");
    assert.ok(line);
    assert.equal(line["msg"], "admission");
    assert.equal(line["namespace"], "team");
    assert.equal(line["name"], "application");
    assert.equal(line["result"], "injected");
    assert.deepEqual(line["injected"], ["error-log", "access-log"]);
    assert.equal(typeof line["ms"], "number");
  });

  // 1,010 levels: past the injector's MAX_POD_DEPTH (1,000), within the body's 1,024 (deeper bodies
  // are refused with a 400 before parsing: bounds.test.ts).
  test("a pod the injector cannot handle (1,010 levels deep) is admitted unchanged with a warning and counted as error", async () => {
    const d = 1010;
    const pod = `{"metadata":{"name":"deep","annotations":{"tailcar.io/files":"/var/log/a.log"},"x":${'{"n":'.repeat(d)}1${"}".repeat(d)}},"spec":{"containers":[{"name":"app"}]}}`;
    const body = JSON.stringify(podCreate("deep", "@POD@")).replace('"@POD@"', pod);
    const before = sample(await s.metrics.registry.metrics(), 'tailcar_webhook_admission_requests_total{result="error"}');
    const reply = await post(body);
    assert.equal(reply.status, 200);
    const { response } = reply.json<AdmissionReviewResponse>();
    assert.equal(response.patch, undefined);
    assert.match(response.warnings?.[0] ?? "", /^tailcar: injection failed, pod admitted unchanged: /);
    assert.equal(sample(await s.metrics.registry.metrics(), 'tailcar_webhook_admission_requests_total{result="error"}') - before, 1);
  });

  test("a body nesting deeper than 1,024 levels is refused with a 400 before it is parsed", async () => {
    const d = 200_000;
    const reply = await post(JSON.stringify(podCreate("deep", { metadata: { name: "deep" }, x: "@X@" })).replace('"@X@"', `${'{"n":'.repeat(d)}1${"}".repeat(d)}`));
    assert.equal(reply.status, 400);
    assert.match(reply.json<{ error: string }>().error, /nests more than 1024 arrays or objects/);
  });

  test("an unknown path gets a 404 naming the routes", async () => {
    const reply = await call(s.port, s.ca, "GET", "/nope");
    assert.equal(reply.status, 404);
    assert.match(reply.json<{ error: string }>().error, /POST \/mutate/);
  });
});

test("/readyz is 503 naming what it waits for, then 200 once every condition is done", async () => {
  const s = await startTestServer(DEFAULT_INJECT_OPTIONS, ["tls", "caBundle"]);
  try {
    const r1 = await call(s.port, s.ca, "GET", "/readyz");
    assert.equal(r1.status, 503);
    assert.deepEqual(r1.json(), { ready: false, reasons: ["waiting for tls", "waiting for caBundle"] });
    assert.equal((await call(s.port, s.ca, "GET", "/healthz")).status, 200, "alive while not ready");
    s.readiness.done("tls");
    s.readiness.done("caBundle");
    assert.equal((await call(s.port, s.ca, "GET", "/readyz")).status, 200);
  } finally {
    await s.close();
  }
});

const CLI = new URL("../../dist/cli/main.js", import.meta.url).pathname;

test("tailcar webhook --self-signed: SIGTERM finishes the in-flight request, exits 0 and removes its CA file", { skip: !existsSync(CLI) && "run npm run build first", timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, [CLI, "webhook", "--self-signed", "--port", "0", "--sidecar-mode", "native"], { stdio: ["ignore", "pipe", "pipe"] });
  try {
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 15_000;
    let listening: { port: number } | undefined;
    let caFile: string | undefined;
    while (!listening && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      for (const line of out.split("\n")) {
        if (!line.startsWith("{")) continue;
        const l = JSON.parse(line) as { msg: string; port?: number; caFile?: string };
        if (l.msg === "listening") listening = { port: l.port! };
        if (l.msg === "self-signed CA written") caFile = l.caFile;
      }
    }
    assert.ok(listening && caFile, `no listening line: ${out}`);
    const { readFileSync } = await import("node:fs");
    const ca = readFileSync(caFile, "utf8");
    // Send the headers and half the body, signal, then the rest: the request is in flight during SIGTERM.
    const body = Buffer.from(JSON.stringify(podCreate("inflight", application, { namespace: "ns" })));
    const socket = connect({ host: "127.0.0.1", port: listening.port, ca, servername: "localhost" });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    let response = "";
    socket.setEncoding("utf8").on("data", (d: string) => (response += d));
    const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
    // "Expect: 100-continue" makes the server say when it has the request headers: from then on
    // the request is in flight, not an idle connection that shutdown may simply close.
    socket.write(`POST /mutate HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\n\r\n`);
    for (let i = 0; i < 100 && !response.includes("100 Continue"); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(response, /^HTTP\/1.1 100 Continue/);
    socket.write(body.subarray(0, 100));
    child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    socket.end(body.subarray(100));
    await closed;
    assert.match(response, /HTTP\/1.1 200/);
    assert.match(response, /"uid":"inflight"/);
    assert.equal(await exited, 0);
    assert.match(out, /"msg":"stopped"/);
    assert.equal(existsSync(caFile), false, "the temporary CA file is removed at exit");
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
  }
});

test("tailcar webhook --help lists every setting; a bad setting exits 2 naming it", { skip: !existsSync(CLI) && "run npm run build first", timeout: 20_000 }, async () => {
  const { spawnSync } = await import("node:child_process");
  const help = spawnSync(process.execPath, [CLI, "webhook", "--help"], { encoding: "utf8", timeout: 10_000 });
  assert.equal(help.status, 0);
  for (const flag of ["--tls-cert", "--self-bootstrap", "--self-signed", "--sidecar-mode", "--config", "TAILCAR_WEBHOOK_IMAGE"]) assert.ok(help.stdout.includes(flag), flag);
  const bad = spawnSync(process.execPath, [CLI, "webhook", "--self-signed", "--image-pull-policy", "Sometimes"], { encoding: "utf8", timeout: 10_000 });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--image-pull-policy: "Sometimes" is not one of/);
  const none = spawnSync(process.execPath, [CLI, "webhook"], { encoding: "utf8", timeout: 10_000 });
  assert.equal(none.status, 2);
  assert.match(none.stderr, /no TLS source/);
});

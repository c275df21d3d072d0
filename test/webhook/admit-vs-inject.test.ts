// The webhook's admission path and `tailcar inject` take the same injection settings by the same
// flags: given every one of them, both inject the same pods into the same result, with the same
// warnings. Runs the built CLI (npm run build first).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import jsonpatch from "fast-json-patch";
import { parseAllDocuments, stringify } from "yaml";
import { Invalid } from "../../settings/kind.ts";
import { admit } from "../../webhook/admit.ts";
import { deepFreeze } from "../../webhook/deep-freeze.ts";
import { INJECTION_ROWS } from "../../webhook/injection-rows.ts";
import { parseInjectArgs } from "../../webhook/inject-command.ts";
import { injectOptions, type InjectOptions } from "../../webhook/options.ts";
import type { Pod } from "../../webhook/pod-types.ts";
import { parseWebhookSettings } from "../../webhook/settings.ts";
import { loadGoldenCases } from "../golden/fixtures.ts";
import { podCreate } from "./https-helpers.ts";
import { packageVersion } from "../../webhook/package-version.ts";

/** The injector's version, for the tailcar.io/status annotation. */
const VERSION = packageVersion();

const CLI = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

/** A value other than the default (the row's example) for every injection setting that has a flag. */
const FLAGS: Record<string, string> = Object.fromEntries(INJECTION_ROWS.flatMap((r) => (r.flag === undefined ? [] : [[r.flag, r.example ?? ""]])));
const ARGS = Object.entries(FLAGS).flat();

/** The golden pods, and pods whose annotations override some of the flags (well and badly). */
function pods(): Pod[] {
  const annotated = (name: string, annotations: Record<string, string>): Pod => ({
    apiVersion: "v1", kind: "Pod",
    metadata: { name, annotations: { "tailcar.io/files": "/var/log/a.log,/var/log/b.log,/var/log/c.log", ...annotations } },
    spec: { containers: [{ name: "app", image: "busybox", volumeMounts: [{ name: "logs", mountPath: "/var/log" }] }], volumes: [{ name: "logs", emptyDir: {} }] },
  });
  return [
    ...loadGoldenCases().map((c) => c.input),
    annotated("overrides", { "tailcar.io/mode": "stream", "tailcar.io/cpu-request": "1", "tailcar.io/multiline": "java", "tailcar.io/from": "end" }),
    annotated("bad", { "tailcar.io/forward-endpoint": "ftp://x", "tailcar.io/memory-limit": "+1Gi", "tailcar.io/cpu-limit": "1m" }),
  ];
}

test("every injection setting with a flag has an example, valid and not its default, so the comparison covers them all", () => {
  for (const row of INJECTION_ROWS) {
    if (row.flag === undefined) continue;
    assert.ok(row.example !== undefined, `${row.key} has no example`);
    assert.notDeepEqual((row.kind.parse as (t: string) => unknown)(row.example), row.default, `${row.key}: the example is the default`);
    assert.ok(!((row.kind.parse as (t: string) => unknown)(row.example) instanceof Invalid), `${row.key}: the example is invalid`);
  }
});

test("the webhook's defaults and tailcar inject's options are the same for the same flags", () => {
  const webhook = parseWebhookSettings(["--self-signed", ...ARGS], {});
  const inject = parseInjectArgs(["-f", "-", ...ARGS], VERSION).options;
  const { excludedNamespaces: _a, ...fromWebhook } = webhook.inject;
  const { excludedNamespaces: _b, sidecarMode, ...fromInject } = inject;
  assert.deepEqual(fromWebhook, fromInject);
  assert.equal(webhook.sidecarMode, sidecarMode);
});

test("the same pods injected by the webhook's admission path and by tailcar inject, with every setting given, come out the same", { skip: !existsSync(CLI) && "run npm run build first", timeout: 60_000 }, () => {
  const settings = parseWebhookSettings(["--self-signed", ...ARGS], {});
  const options: InjectOptions = deepFreeze(injectOptions({ ...settings.inject, sidecarMode: settings.sidecarMode === "native" ? "native" : "classic" }, VERSION));
  const input = pods();
  const r = spawnSync(process.execPath, [CLI, "inject", "-f", "-", ...ARGS], { input: input.map((p) => stringify(p)).join("---\n"), encoding: "utf8", timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  const injected = parseAllDocuments(r.stdout).map((d) => d.toJS() as Pod);
  assert.equal(injected.length, input.length);
  input.forEach((pod, i) => {
    const outcome = admit(podCreate(`uid-${i}`, pod), options, VERSION);
    const response = (outcome.body as { response: { patch?: string; warnings?: string[] } }).response;
    const patch = response.patch === undefined ? [] : (JSON.parse(Buffer.from(response.patch, "base64").toString()) as jsonpatch.Operation[]);
    const admitted = jsonpatch.applyPatch(structuredClone(pod), patch, true, false).newDocument;
    const name = pod.metadata?.name ?? pod.metadata?.generateName;
    assert.deepEqual(injected[i], admitted, `${name}`);
    // The answer cuts warnings to 120 characters (kubectl shows them); inject writes them whole.
    for (const w of response.warnings ?? []) assert.ok(r.stderr.includes(w.endsWith("…") ? `: ${w.slice(0, -1)}` : `: ${w}\n`), `${name}: tailcar inject did not warn ${w}`);
  });
});

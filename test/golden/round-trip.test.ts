// Injection undone: for every golden pod, uninject(inject(pod)) is the pod, and `tailcar uninject`
// of `tailcar inject`'s output (the same YAML handling, in process) gives back the input's bytes.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { parse } from "yaml";
import { inject } from "../../webhook/inject.ts";
import { injection } from "../../webhook/inject-command.ts";
import { changeDocument, type ManifestChange } from "../../webhook/manifest-stream.ts";
import type { Pod } from "../../webhook/pod-types.ts";
import { uninjection } from "../../webhook/uninject-command.ts";
import { uninject } from "../../webhook/uninject.ts";
import { YamlDocumentStream } from "../../webhook/yaml-stream.ts";
import { loadGoldenCases } from "./fixtures.ts";

const STATUS = "tailcar.io/status";
/** Cases the YAML library writes anew in part, unchanged or not: a folded `>` block (folded again), a flow sequence (`["a"]` as `[ "a" ]`). */
const REWRITTEN_BY_THE_YAML_LAYER = new Set(["application", "job-native-sidecar", "name-collision"]);

/** `change` over every document of `text`, as the commands write them, and the warnings. */
function throughCommand(text: string, change: ManifestChange): { text: string; warnings: string[] } {
  const stream = new YamlDocumentStream(4 * 1024 * 1024);
  const warnings: string[] = [];
  const out = [...stream.push(text), ...stream.end()]
    .map((doc) => changeDocument(doc, change, "golden", (w) => warnings.push(w)))
    .filter((t) => t !== undefined);
  return { text: out.join("---\n"), warnings };
}

for (const c of loadGoldenCases()) {
  if (c.input.metadata?.annotations?.[STATUS] !== undefined) {
    test(`golden ${c.name}: uninject removes the status annotation the pod carries, and warns about what it lists that the pod lacks`, () => {
      const result = uninject(c.input);
      const { [STATUS]: _status, ...annotations } = c.input.metadata!.annotations!;
      assert.deepEqual(result.pod, { ...c.input, metadata: { ...c.input.metadata, annotations } });
      assert.deepEqual(result.removed, []);
      assert.match(result.warnings.join("\n"), /lists the sidecar "app-log", which the pod does not have/);
    });
    continue;
  }

  test(`golden ${c.name}: uninject(inject(pod)) is the pod, removing the sidecars injected, without warnings`, () => {
    const injected = inject(c.input, c.options, c.context);
    const before = structuredClone(injected.pod);
    const result = uninject(injected.pod);
    assert.deepEqual(injected.pod, before, "uninject() mutated its input");
    assert.deepEqual(result.pod, c.input);
    if (injected.injected.length === 0) {
      assert.equal(result.skipped, "not-injected");
      assert.equal(result.pod, injected.pod, "a pod not injected is returned as it is");
      return;
    }
    assert.deepEqual(result.removed, injected.injected);
    assert.deepEqual(result.warnings, []);
  });

  test(`golden ${c.name}: tailcar uninject of tailcar inject's output gives back the input file, byte for byte as the YAML layer writes it`, () => {
    const text = readFileSync(c.inPath, "utf8");
    const injected = throughCommand(text, injection(c.options, c.context.version));
    const back = throughCommand(injected.text, uninjection);
    assert.deepEqual(parse(back.text) as Pod, c.input);
    // The bytes the commands write for the file unchanged: the input itself, except where the YAML
    // library writes a node anew (REWRITTEN_BY_THE_YAML_LAYER), which inject does too.
    assert.equal(back.text, throughCommand(text, (object) => ({ object, warnings: [] })).text);
    if (!REWRITTEN_BY_THE_YAML_LAYER.has(c.name)) assert.equal(back.text, text);
  });
}

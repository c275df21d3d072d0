// The version a release ships has one source, package.json: the Helm chart's version and appVersion
// and the kustomize base's webhook image tag are written from it by `npm run docs:settings` (the
// sidecar image's tag is packageVersion() already), and test/docs-tables.test.ts fails when one of
// them disagrees. The release workflow refuses a tag that is not "v" + this version.
export const CHART_YAML = "manifests/helm/tailcar/Chart.yaml";
export const BASE_KUSTOMIZATION = "manifests/base/kustomization.yaml";

const FIELDS: Readonly<Record<string, readonly { readonly line: RegExp; readonly write: (v: string) => string }[]>> = {
  [CHART_YAML]: [
    { line: /^version: .*$/m, write: (v) => `version: ${v}` },
    { line: /^appVersion: .*$/m, write: (v) => `appVersion: "${v}"` },
  ],
  [BASE_KUSTOMIZATION]: [{ line: /^( +newTag: ).*$/m, write: (v) => `    newTag: ${v}` }],
};

export const VERSIONED_FILES: readonly string[] = Object.keys(FIELDS);

/** `text` of `file` (one of VERSIONED_FILES) with its version fields set to `version`; throws naming a missing field. */
export function withVersion(file: string, text: string, version: string): string {
  let out = text;
  for (const field of FIELDS[file] ?? []) {
    if (!field.line.test(out)) throw new Error(`${file}: no line matching ${field.line} to write the version into`);
    out = out.replace(field.line, field.write(version));
  }
  return out;
}

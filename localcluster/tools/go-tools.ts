// Command-line tools the tests run on the project's own files: helm (the chart) and actionlint (the
// GitHub workflows), each built once from the Go module pinned in its folder (build.sh, through
// backend/go-cached-build.sh) and cached in the user cache dir, or taken from an environment variable.
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { builtBinary } from "../backend/go-binary.ts";

const here = dirname(fileURLToPath(import.meta.url));

/** helm: $TAILCAR_HELM if set, else built (first time) by tools/helm/build.sh. */
export function helmBinary(): string {
  return builtBinary(join(here, "helm", "build.sh"), "TAILCAR_HELM", "helm", 30 * 60_000);
}

/** actionlint: $TAILCAR_ACTIONLINT if set, else built (first time) by tools/actionlint/build.sh. */
export function actionlintBinary(): string {
  return builtBinary(join(here, "actionlint", "build.sh"), "TAILCAR_ACTIONLINT", "actionlint", 10 * 60_000);
}

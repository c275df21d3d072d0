// The package version, for the default image tag and the tailcar.io/status annotation: read by the
// commands (tailcar webhook, tailcar inject), which give it to injection as an input. Found by
// walking up from this file, because the same code runs from webhook/ (tests, type stripping) and
// from dist/webhook/ (the built CLI), one directory deeper.
import { readFileSync } from "node:fs";

let cached: string | undefined;

export function packageVersion(): string {
  if (cached !== undefined) return cached;
  for (const relative of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), "utf8")) as { name?: unknown; version?: unknown };
      if (pkg.name === "tailcar" && typeof pkg.version === "string") return (cached = pkg.version);
    } catch {
      // not at this level; try the next
    }
  }
  return (cached = "0.0.0");
}

// A child Node process's own account of its peak RSS and CPU, written on fd 3 as it exits: start
// it with `--import CHILD_USAGE_IMPORT` and an extra pipe as fd 3, and read that pipe to its end.

export const CHILD_USAGE_IMPORT = `data:text/javascript,${encodeURIComponent(
  `import { writeSync } from "node:fs"; process.on("exit", () => writeSync(3, JSON.stringify(process.resourceUsage())));`,
)}`;

/** What the child wrote on fd 3: maxRSS in KiB, CPU times in µs. */
export function parseChildUsage(text: string): NodeJS.ResourceUsage {
  return JSON.parse(text) as NodeJS.ResourceUsage;
}

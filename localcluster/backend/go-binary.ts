// The log backends' binaries: a path given in an environment variable, else what the folder's
// build.sh prints (built the first time, cached in the user cache dir; go-cached-build.sh).
import { spawnSync } from "node:child_process";

const found = new Map<string, string>();

export function builtBinary(buildScript: string, envVar: string, what: string, timeoutMs: number): string {
  const known = found.get(buildScript);
  if (known !== undefined) return known;
  const given = process.env[envVar];
  if (given) return remember(buildScript, given);
  // stderr inherited: the first build takes minutes, and its progress should show.
  const res = spawnSync("sh", [buildScript], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: timeoutMs });
  const path = res.stdout?.trim().split("\n").at(-1);
  if (res.status !== 0 || !path) throw new Error(`building ${what} failed (exit ${res.status}): run ${buildScript} to see why`);
  return remember(buildScript, path);
}

function remember(buildScript: string, path: string): string {
  found.set(buildScript, path);
  return path;
}

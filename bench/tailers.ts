// The programs the benchmark compares: the baselines (coreutils tail, busybox tail when it is
// installed) and tailcar's sidecar, or a stand-in reader until the sidecar is built.
import { existsSync } from "node:fs";
import { cp, copyFile, symlink } from "node:fs/promises";
import { join } from "node:path";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { RELAUNCHED_ENV } from "../sidecar/node-flags.ts";

export interface Tailer {
  readonly name: string;
  readonly command: string;
  /** Arguments for following `file` from its first byte. */
  readonly args: (file: string) => string[];
  readonly isBaseline: boolean;
  /** The output format, when it is not the file's bytes as they are. */
  readonly format?: "json";
  /** Added to the environment it runs in. */
  readonly env?: Readonly<Record<string, string>>;
}

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const SIDECAR_COMMAND_JS = join(ROOT, "dist/sidecar/command.js");
const NAIVE = fileURLToPath(new URL("./naive-reader.ts", import.meta.url));

export const coreutils: Tailer = { name: "coreutils tail", command: "tail", args: (f) => ["-n", "+1", "-F", f], isBaseline: true };

function hasBusybox(): boolean {
  try {
    execFileSync("busybox", ["tail", "--help"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function busybox(): Tailer | undefined {
  if (!hasBusybox()) return undefined;
  return { name: "busybox tail", command: "busybox", args: (f) => ["tail", "-n", "+1", "-F", f], isBaseline: true };
}

export function sidecarBuilt(): boolean {
  return existsSync(join(ROOT, "dist/cli/main.js")) && existsSync(SIDECAR_COMMAND_JS);
}

/**
 * A copy of dist/ (with package.json and a link to node_modules) under `dir`: the run measures
 * the build as it was when it started, even if dist/ is rebuilt meanwhile. Returns its main.js.
 */
export async function snapshotBuild(dir: string, from = ROOT, name = "build"): Promise<string> {
  const root = join(dir, name);
  await cp(join(from, "dist"), join(root, "dist"), { recursive: true });
  await copyFile(join(from, "package.json"), join(root, "package.json"));
  await symlink(join(ROOT, "node_modules"), join(root, "node_modules"), "dir");
  return join(root, "dist/cli/main.js");
}

/** A checkout of another revision with its dist/ built, to measure beside this one (TAILCAR_BENCH_COMPARE). */
export function compareBuildRoot(env: NodeJS.ProcessEnv = process.env): { root: string; label: string } | undefined {
  const root = env.TAILCAR_BENCH_COMPARE;
  if (root === undefined || root === "") return undefined;
  if (!existsSync(join(root, "dist/cli/main.js")) || !existsSync(join(root, "package.json"))) {
    throw new Error(`TAILCAR_BENCH_COMPARE=${root}: no dist/cli/main.js and package.json there (a checkout built with npm run build)`);
  }
  return { root, label: env.TAILCAR_BENCH_COMPARE_LABEL || root };
}

/** The stand-in reader as a reference row: about the least a Node tailer can cost. */
export function naiveReader(): Tailer {
  return { name: "naive node reader (reference)", command: process.execPath, args: (f) => [NAIVE, f], isBaseline: true };
}

/**
 * tailcar's sidecar as the image runs it: plain `node`, and the sidecar re-executes itself under the
 * flags its settings choose (`--lite-mode` for raw format to stdout; sidecar/node-flags.ts), in the
 * same process, with the settings it parsed handed over.
 */
export function tailcarAsImage(mainJs: string): Tailer {
  // The name of the row it stands for: the one tailcar(mainJs, ["--lite-mode"]) measures streaming.
  return { name: "tailcar sidecar --lite-mode", command: process.execPath, args: (f) => [mainJs, "sidecar", "--file", f], isBaseline: false };
}

/**
 * tailcar's sidecar (`mainJs`: the built CLI) run by this Node binary with `nodeFlags`, or the
 * stand-in without a build. The sidecar keeps those flags: it does not re-execute itself under the
 * ones its settings would choose (sidecar/node-flags.ts), so a row measures the flags it names.
 */
export function tailcar(mainJs: string | undefined, nodeFlags: readonly string[] = [], extraArgs: readonly string[] = [], suffix = ""): Tailer {
  const label = nodeFlags.length > 0 ? ` ${nodeFlags.join(" ")}` : "";
  if (mainJs === undefined) {
    return { name: `naive reader (stand-in)${label}`, command: process.execPath, args: (f) => [...nodeFlags, NAIVE, f], isBaseline: false };
  }
  const extra = extraArgs.length > 0 ? ` ${extraArgs.join(" ")}` : "";
  const json = extraArgs.includes("json");
  return {
    ...(json ? { format: "json" as const } : {}),
    name: `tailcar sidecar${extra}${label}${suffix}`,
    command: process.execPath,
    args: (f) => [...nodeFlags, mainJs, "sidecar", "--file", f, ...extraArgs],
    env: { [RELAUNCHED_ENV]: "1" },
    isBaseline: false,
  };
}

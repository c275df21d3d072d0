// Finds the control-plane binaries (KUBEBUILDER_ASSETS, then the user cache) or builds the missing ones
// from the pinned wrapper modules. Run on its own: `node localcluster/harness/build.ts` (npm run control-plane).
import { createHash } from "node:crypto";
import { accessSync, constants, readFileSync, readdirSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { withBuildLock } from "./build-lock.ts";
import { PRUNE_AFTER_DAYS, pruneUnused, stampUsed } from "./cache-prune.ts";
import { formatSeconds, goBuild, GoMissingError, runGo, type Log } from "./go-build.ts";
import {
  BINARY_NAMES,
  CONTROL_PLANE_DIR,
  etcdVersion,
  kubernetesVersion,
  NODE_BINARY_NAMES,
  PIN_FILES,
  recipes,
  type BinaryName,
  type ControlPlaneBinaryName,
  type NodeBinaryName,
} from "./pins.ts";

export type BinaryPaths = Readonly<Record<ControlPlaneBinaryName, string>>;
type Source = "KUBEBUILDER_ASSETS" | "cache" | "built";

export interface ControlPlaneBinaries {
  readonly paths: BinaryPaths;
  readonly kubernetesVersion: string;
  readonly etcdVersion: string;
  /** Where each binary came from, for logs. */
  readonly sources: Readonly<Record<ControlPlaneBinaryName, Source>>;
}

export interface NodeBinaries {
  readonly paths: Readonly<Record<NodeBinaryName, string>>;
  readonly kubernetesVersion: string;
  readonly sources: Readonly<Record<NodeBinaryName, Source>>;
}

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "tailcar", "control-plane");
}

/** Hash of everything that decides the build output except the Go toolchain. */
export function pinsHash(): string {
  const hash = createHash("sha256");
  for (const file of PIN_FILES) hash.update(`${file}\0`).update(readFileSync(join(CONTROL_PLANE_DIR, file))).update("\0");
  hash.update(JSON.stringify(recipes()));
  return hash.digest("hex").slice(0, 16);
}

/** Cache entries are `<pins hash>-<go version>-<os>-<arch>`: a new Go or new pins means a new entry. */
export function cacheKey(pins: string, goEnv: { version: string; os: string; arch: string }): string {
  return `${pins}-${goEnv.version}-${goEnv.os}-${goEnv.arch}`;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function fromFolder(folder: string | undefined, names: readonly BinaryName[] = BINARY_NAMES): Partial<Record<BinaryName, string>> {
  const found: Partial<Record<BinaryName, string>> = {};
  if (!folder) return found;
  for (const name of names) if (isExecutable(join(folder, name))) found[name] = join(folder, name);
  return found;
}

export async function goEnv(): Promise<{ version: string; os: string; arch: string }> {
  const [version = "", os = "", arch = ""] = (await runGo(["env", "GOVERSION", "GOOS", "GOARCH"], CONTROL_PLANE_DIR)).trim().split("\n");
  return { version, os, arch };
}

/** Without Go the key cannot be computed; any complete entry for the same pins is still right. */
function cachedWithoutGo(root: string, pins: string, names: readonly BinaryName[]): string | undefined {
  let entries: string[] = [];
  try {
    entries = readdirSync(root);
  } catch {
    return undefined;
  }
  return entries
    .filter((e) => e.startsWith(`${pins}-`))
    .map((e) => join(root, e))
    .find((dir) => Object.keys(fromFolder(dir, names)).length === names.length);
}

const defaultLog: Log = (l) => process.stderr.write(`${l}\n`);

export async function findOrBuildControlPlane(log: Log = defaultLog): Promise<ControlPlaneBinaries> {
  const versions = { kubernetesVersion: kubernetesVersion(), etcdVersion: etcdVersion() };
  const found = await findOrBuild(BINARY_NAMES, fromFolder(process.env.KUBEBUILDER_ASSETS), log);
  return { ...found, ...versions } as ControlPlaneBinaries;
}

/** kubelet and kube-scheduler, from the same pins and cache entry as the control plane. */
export async function findOrBuildNode(log: Log = defaultLog): Promise<NodeBinaries> {
  const versions = { kubernetesVersion: kubernetesVersion() };
  const found = await findOrBuild(NODE_BINARY_NAMES, {}, log);
  return { ...found, ...versions } as NodeBinaries;
}

/** kubectl from the same pins and cache entry: the version the tests' API server speaks, kustomize included. */
export async function findOrBuildKubectl(log: Log = defaultLog): Promise<string> {
  const found = await findOrBuild(["kubectl"], {}, log);
  const path = found.paths.kubectl;
  if (path === undefined) throw new Error("kubectl: neither cached nor built");
  return path;
}

async function findOrBuild(
  names: readonly BinaryName[],
  assets: Partial<Record<BinaryName, string>>,
  log: Log,
): Promise<{ paths: Partial<Record<BinaryName, string>>; sources: Partial<Record<BinaryName, Source>> }> {
  const missing = names.filter((n) => !assets[n]);
  const paths: Partial<Record<BinaryName, string>> = { ...assets };
  const sources: Partial<Record<BinaryName, Source>> = {};
  for (const n of names) if (assets[n]) sources[n] = "KUBEBUILDER_ASSETS";
  if (missing.length > 0) {
    const root = cacheRoot();
    const pins = pinsHash();
    let dir: string;
    try {
      dir = join(root, cacheKey(pins, await goEnv()));
    } catch (e) {
      const fallback = e instanceof GoMissingError ? cachedWithoutGo(root, pins, names) : undefined;
      if (!fallback) throw e;
      dir = fallback;
    }
    await mkdir(dir, { recursive: true });
    const build = async (): Promise<BinaryName[]> => {
      // Checked again under the lock: another process may have built them meanwhile.
      const cached = fromFolder(dir, names);
      const toBuild = missing.filter((n) => !cached[n]);
      if (toBuild.length === 0) return toBuild;
      log(`control-plane: building ${toBuild.join(", ")} into ${dir} (first time only; a cold build takes 15-40 minutes)`);
      const started = Date.now();
      const all = recipes();
      for (const name of toBuild) await goBuild(all[name], join(dir, name), log);
      log(`control-plane: build finished in ${formatSeconds(Date.now() - started)}`);
      await writeFile(join(dir, "versions.json"), `${JSON.stringify({ kubernetesVersion: kubernetesVersion(), etcdVersion: etcdVersion(), builtAt: new Date().toISOString() }, null, 2)}\n`);
      return toBuild;
    };
    const allCached = missing.every((n) => fromFolder(dir, names)[n]);
    const toBuild = allCached ? [] : await withBuildLock(dir, log, build);
    for (const name of missing) {
      paths[name] = join(dir, name);
      sources[name] = toBuild.includes(name) ? "built" : "cache";
    }
    stampUsed(dir);
    const removed = pruneUnused(root, dir);
    if (removed.length > 0) log(`control-plane: removed ${removed.length} cache ${removed.length === 1 ? "entry" : "entries"} unused for ${PRUNE_AFTER_DAYS} days from ${root}: ${removed.join(", ")}`);
  }
  return { paths, sources };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  findOrBuildControlPlane().then(
    async (b) => {
      for (const name of BINARY_NAMES) process.stdout.write(`${name.padEnd(24)} ${b.paths[name]} (${b.sources[name]})\n`);
      // `--node`: also kubelet and kube-scheduler, for the real node (built on first use otherwise).
      if (process.argv.includes("--node")) {
        const node = await findOrBuildNode();
        for (const name of NODE_BINARY_NAMES) process.stdout.write(`${name.padEnd(24)} ${node.paths[name]} (${node.sources[name]})\n`);
        // kubectl too: the install proof applies the shipped overlay with it.
        process.stdout.write(`${"kubectl".padEnd(24)} ${await findOrBuildKubectl()}\n`);
      }
      process.stdout.write(`kubernetes ${b.kubernetesVersion}, etcd ${b.etcdVersion}; ready in ${formatSeconds(Date.now() - started)}\n`);
    },
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

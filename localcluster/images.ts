// Container images for the real node, built on this machine without a registry or Docker:
// - busybox:1.28, the docs' app image: Debian's busybox-static in one layer;
// - the pause (sandbox) image: the same static busybox, sleeping;
// - tailcar-sidecar, built from Dockerfile.sidecar with buildah, on base images assembled here from
//   the Node 24 binary the `node` npm package installed, the libraries it links, busybox (sh), and
//   util-linux's fallocate (--reclaim punches holes with it; busybox's cannot), as node:24-bookworm-slim has;
//   the build stages get the host's npm (and its cache, mounted as an overlay so nothing in it changes).
// Each image is a docker-archive tarball in the user cache, keyed by a hash of everything it is built
// from; `ctr images import` puts it into containerd's k8s.io namespace.
import { execFileSync, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { pruneUnused, stampUsed } from "./harness/cache-prune.ts";
import { withBuildLock } from "./harness/build-lock.ts";
import { formatSeconds, type Log } from "./harness/go-build.ts";
import { projectRoot } from "./harness/pins.ts";
import { parse } from "yaml";
import { withPrivateFolders } from "./kubelet-config.ts";

export const APP_IMAGE = "docker.io/library/busybox:1.28";
export const PAUSE_IMAGE = "localhost/tailcar/pause:1";
/** The injector's default image name is replaced by this in the real-node tests (--sidecar-image). */
export const SIDECAR_IMAGE = "localhost/tailcar/sidecar:e2e";

const BUSYBOX = "/bin/busybox";
/** util-linux's, which punches holes (sidecar/punch-hole.ts); .ci/run installs util-linux. */
const FALLOCATE = "/usr/bin/fallocate";
const PAUSE_ENTRYPOINT = '["/busybox", "sleep", "2147483647"]';
/** Bumped when the way images are assembled changes without any input file changing. */
const RECIPE_VERSION = "1";

export interface BuiltImage {
  readonly name: string;
  /** docker-archive tarball, for `ctr images import`. */
  readonly tarball: string;
  readonly source: "cache" | "built";
  readonly buildMs: number;
}

export interface NodeImages {
  readonly app: BuiltImage;
  readonly pause: BuiltImage;
  readonly sidecar: BuiltImage;
}

export function imageCacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME || join(env.HOME || homedir(), ".cache");
  return join(base, "tailcar", "images");
}

function run(command: string, args: readonly string[], options: { cwd?: string; log?: Log } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} ${args.join(" ")} failed (exit ${code}):\n${(err || out).trim().split("\n").slice(-30).join("\n")}`)),
    );
  });
}

function hashFiles(hash: ReturnType<typeof createHash>, root: string, paths: readonly string[]): void {
  for (const path of paths) {
    const full = join(root, path);
    const st = statSync(full, { throwIfNoEntry: false });
    if (st === undefined) continue;
    if (st.isDirectory()) {
      hashFiles(hash, root, readdirSync(full).sort().map((e) => join(path, e)));
    } else {
      hash.update(`${path}\0`).update(readFileSync(full)).update("\0");
    }
  }
}

/** The Node binary the `node` dev dependency installed (Node 24), not the system one. */
export function nodeBinary(): string {
  const candidate = join(projectRoot(), "node_modules", "node", "bin", "node");
  return existsSync(candidate) ? realpathSync(candidate) : process.execPath;
}

/** The shared libraries `binary` links, as the dynamic loader resolves them here (pure parse of ldd's output). */
export function parseLdd(output: string): string[] {
  const libs: string[] = [];
  for (const line of output.split("\n")) {
    const arrow = /=>\s+(\/\S+)/.exec(line);
    const direct = /^\s*(\/\S+)\s+\(/.exec(line);
    const path = arrow?.[1] ?? direct?.[1];
    if (path !== undefined) libs.push(path);
  }
  return libs;
}

/** The host npm (pure JavaScript), for the build stages. */
function npmPackageDir(): string {
  const npmCli = realpathSync(execFileSync("sh", ["-c", "command -v npm"], { encoding: "utf8" }).trim());
  return dirname(dirname(npmCli)); // .../npm/bin/npm-cli.js
}

function copyInto(rootfs: string, path: string, as = path): void {
  const target = join(rootfs, as);
  mkdirSync(dirname(target), { recursive: true });
  copyFileSync(realpathSync(path), target);
  chmodSync(target, statSync(realpathSync(path)).mode & 0o777);
}

function busyboxApplets(): string[] {
  return execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter((a) => a !== "" && a !== "busybox");
}

/** /bin/busybox and a /bin link for each applet (sh, chmod, ln, env, date, sleep, ...). */
function addBusybox(rootfs: string): void {
  copyInto(rootfs, BUSYBOX, "/bin/busybox");
  for (const applet of busyboxApplets()) {
    if (!existsSync(join(rootfs, "bin", applet))) symlinkSync("busybox", join(rootfs, "bin", applet));
  }
  mkdirSync(join(rootfs, "usr", "bin"), { recursive: true });
  symlinkSync("/bin/busybox", join(rootfs, "usr", "bin", "env"));
  mkdirSync(join(rootfs, "tmp"), { recursive: true });
  chmodSync(join(rootfs, "tmp"), 0o1777);
}

/**
 * util-linux's fallocate at /usr/bin, ahead of busybox's /bin/fallocate in the images' PATH, with the
 * libraries it links (libc, which Node links too). Without it on the host the image has busybox's
 * only, and a sidecar with --reclaim says it has no fallocate that punches.
 */
function addFallocate(rootfs: string): void {
  if (!existsSync(FALLOCATE)) return;
  copyInto(rootfs, FALLOCATE);
  for (const lib of parseLdd(execFileSync("ldd", [FALLOCATE], { encoding: "utf8" }))) copyInto(rootfs, lib);
}

/** Node, stripped of its debug symbols when `strip` is here (129 -> 112 MB), and the libraries it links. */
function addNode(rootfs: string): void {
  const node = nodeBinary();
  copyInto(rootfs, node, "/usr/local/bin/node");
  try {
    execFileSync("strip", [join(rootfs, "usr/local/bin/node")], { stdio: "ignore" });
  } catch {
    // No binutils: the unstripped binary works the same.
  }
  for (const lib of parseLdd(execFileSync("ldd", [node], { encoding: "utf8" }))) copyInto(rootfs, lib);
}

interface ImageRecipe {
  readonly name: string;
  readonly key: string;
  /** Builds the image into buildah's storage under `storage`, tagged `name`. */
  build(buildah: (args: readonly string[]) => Promise<string>, work: string): Promise<void>;
}

function keyOf(parts: readonly (string | Buffer)[]): string {
  const hash = createHash("sha256").update(RECIPE_VERSION);
  for (const p of parts) hash.update(p).update("\0");
  return hash.digest("hex").slice(0, 16);
}

const fileDigest = (path: string): string => createHash("sha256").update(readFileSync(path)).digest("hex");

function fromScratch(name: string, rootfs: (dir: string) => void, config: readonly string[]): ImageRecipe["build"] {
  return async (buildah, work) => {
    const dir = join(work, `${name.replace(/[^a-z0-9]/gi, "-")}-context`);
    mkdirSync(join(dir, "rootfs"), { recursive: true });
    rootfs(join(dir, "rootfs"));
    writeFileSync(join(dir, "Containerfile"), ["FROM scratch", "COPY rootfs/ /", ...config, ""].join("\n"));
    await buildah(["bud", "--network", "none", "-f", join(dir, "Containerfile"), "-t", name, dir]);
  };
}

/**
 * The webhook image under the name the shipped kustomization gives it (base/kustomization.yaml's
 * `images`), so `kubectl apply -k` of an unchanged overlay finds it on the node (IfNotPresent).
 */
export function shippedWebhookImage(): string {
  const text = readFileSync(join(projectRoot(), "manifests", "base", "kustomization.yaml"), "utf8");
  const entry = (parse(text) as { images?: { name?: string; newName?: string; newTag?: string }[] }).images?.find((i) => i.name === "tailcar-webhook");
  if (entry?.newName === undefined || entry.newTag === undefined) throw new Error("manifests/base/kustomization.yaml: no images entry for tailcar-webhook with newName and newTag");
  return `${entry.newName}:${entry.newTag}`;
}

function recipes(): { app: ImageRecipe; pause: ImageRecipe; sidecar: ImageRecipe; webhook: ImageRecipe } {
  const busyboxKey = fileDigest(BUSYBOX);
  const node = nodeBinary();
  const fallocateKey = existsSync(FALLOCATE) ? fileDigest(FALLOCATE) : "no fallocate";
  const nodeKey = keyOf([fileDigest(node), ...parseLdd(execFileSync("ldd", [node], { encoding: "utf8" })).map(fileDigest), busyboxKey, fallocateKey]);
  const npmDir = npmPackageDir();
  const npmVersion = (JSON.parse(readFileSync(join(npmDir, "package.json"), "utf8")) as { version: string }).version;
  const root = projectRoot();
  const sourceHash = createHash("sha256");
  const sources = ["package.json", "package-lock.json", "tsconfig.json", "tsconfig.build.json", "cli", "webhook", "sidecar", "settings"];
  hashFiles(sourceHash, root, ["Dockerfile.sidecar", ...sources]);
  const webhookHash = createHash("sha256");
  hashFiles(webhookHash, root, ["Dockerfile.webhook", ...sources]);
  const webhookName = shippedWebhookImage();
  const baseName = `localhost/tailcar/node-base:${nodeKey}`;
  const buildName = `localhost/tailcar/node-build:${keyOf([nodeKey, npmVersion])}`;
  const buildBase = fromScratch(baseName, (r) => {
    addBusybox(r);
    addNode(r);
    addFallocate(r);
  }, ['ENV PATH=/usr/local/bin:/usr/bin:/bin']);
  const buildBuild = fromScratch(buildName, (r) => {
    addBusybox(r);
    addNode(r);
    cpSync(npmDir, join(r, "usr/local/lib/node_modules/npm"), { recursive: true });
    symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(r, "usr/local/bin/npm"));
  }, [
    "ENV PATH=/usr/local/bin:/usr/bin:/bin",
    // Offline: the host's npm cache (mounted there as an overlay) holds every tarball the lock names
    // once `npm ci` has run on the host, and the Dockerfile installs only from lock files.
    "ENV npm_config_cache=/npm-cache npm_config_offline=true npm_config_update_notifier=false",
  ]);
  /** A Dockerfile of ours on the locally assembled base images, offline (the npm cache as an overlay). */
  const fromDockerfile = (dockerfile: string, name: string): ImageRecipe["build"] => async (buildah, work) => {
    await buildBase(buildah, work);
    await buildBuild(buildah, work);
    const npmCache = execFileSync("npm", ["config", "get", "cache"], { encoding: "utf8" }).trim();
    mkdirSync(npmCache, { recursive: true });
    await buildah([
      "bud",
      "--network",
      "none",
      "--pull-never",
      "--build-arg",
      `BUILD_IMAGE=${buildName}`,
      "--build-arg",
      `BASE_IMAGE=${baseName}`,
      // :O mounts the cache as an overlay: writes (and the Dockerfile's `npm cache clean`) are thrown away.
      "-v",
      `${npmCache}:/npm-cache:O`,
      "-f",
      join(root, dockerfile),
      "-t",
      name,
      root,
    ]);
  };
  return {
    app: {
      name: APP_IMAGE,
      key: keyOf(["app", busyboxKey]),
      build: fromScratch(APP_IMAGE, addBusybox, ['CMD ["sh"]']),
    },
    pause: {
      name: PAUSE_IMAGE,
      key: keyOf(["pause", busyboxKey, PAUSE_ENTRYPOINT]),
      // busybox picks its applet by the name it is called with: the file must be called busybox for
      // the applet to be taken from the next argument. PID 1 ignores SIGTERM; the runtime kills the
      // sandbox with SIGKILL anyway.
      build: fromScratch(PAUSE_IMAGE, (r) => copyInto(r, BUSYBOX, "/busybox"), [`ENTRYPOINT ${PAUSE_ENTRYPOINT}`]),
    },
    sidecar: {
      name: SIDECAR_IMAGE,
      key: keyOf(["sidecar", nodeKey, npmVersion, sourceHash.digest("hex")]),
      build: fromDockerfile("Dockerfile.sidecar", SIDECAR_IMAGE),
    },
    webhook: {
      name: webhookName,
      key: keyOf(["webhook", webhookName, nodeKey, npmVersion, webhookHash.digest("hex")]),
      build: fromDockerfile("Dockerfile.webhook", webhookName),
    },
  };
}

async function buildOne(recipe: ImageRecipe, log: Log): Promise<BuiltImage> {
  const root = imageCacheRoot();
  const entry = join(root, recipe.key);
  const tarball = join(entry, "image.tar");
  mkdirSync(entry, { recursive: true });
  const started = Date.now();
  let source: BuiltImage["source"] = "cache";
  if (!existsSync(tarball)) {
    await withBuildLock(entry, log, async () => {
      if (existsSync(tarball)) return;
      source = "built";
      log(`images: building ${recipe.name} with buildah`);
      // buildah's storage in a folder of its own, never the machine's /var/lib/containers.
      const work = mkdtempSync(join(tmpdir(), "tailcar-buildah-"));
      const storage = ["--root", join(work, "storage"), "--runroot", join(work, "run"), "--storage-driver", "overlay"];
      // buildah and runc write /run/containers, /run/runc and /var/lib/containers/cache whatever its
      // --root: in its own mount namespace, folders of the build cover /run and /var/lib.
      mkdirSync(join(work, "run-cover"), { recursive: true });
      mkdirSync(join(work, "var-lib-cover"), { recursive: true });
      const covered = (args: readonly string[]) =>
        withPrivateFolders([[join(work, "run-cover"), "/run"], [join(work, "var-lib-cover"), "/var/lib"]], "nice", ["-n", "10", "buildah", ...storage, ...args]);
      const buildah = (args: readonly string[]) => {
        const c = covered(args);
        return run(c.command, c.args);
      };
      try {
        await recipe.build(buildah, work);
        const tmp = join(entry, `.image.${process.pid}.tar`);
        await buildah(["push", recipe.name, `docker-archive:${tmp}:${recipe.name}`]);
        renameSync(tmp, tarball);
      } finally {
        // The overlay mounts buildah made are gone with its process; its storage may hold a mounted layer.
        await buildah(["rm", "--all"]).catch(() => "");
        await run("umount", ["-R", work]).catch(() => "");
        rmSync(work, { recursive: true, force: true });
      }
      log(`images: built ${recipe.name} in ${formatSeconds(Date.now() - started)} (${(statSync(tarball).size / 1e6).toFixed(1)} MB)`);
    });
  }
  stampUsed(entry);
  pruneUnused(root, entry);
  return { name: recipe.name, tarball, source, buildMs: Date.now() - started };
}

/** Finds the node's three images in the cache, building the missing ones (the sidecar on every source change). */
export async function findOrBuildImages(log: Log = (l) => process.stderr.write(`${l}\n`)): Promise<NodeImages> {
  const all = recipes();
  return { app: await buildOne(all.app, log), pause: await buildOne(all.pause, log), sidecar: await buildOne(all.sidecar, log) };
}

/** The webhook image (Dockerfile.webhook), for the install proof: built on first use, like the others. */
export async function findOrBuildWebhookImage(log: Log = (l) => process.stderr.write(`${l}\n`)): Promise<BuiltImage> {
  return buildOne(recipes().webhook, log);
}

/** The image's size: its tarball (what an import reads) and, from the tarball's layers, unpacked. */
export function tarballSize(image: BuiltImage): number {
  return statSync(image.tarball).size;
}

/** For the harness's log: which folder under the user cache an image lives in. */
export function describeImage(image: BuiltImage): string {
  return `${image.name} (${image.source}, ${(tarballSize(image) / 1e6).toFixed(1)} MB, ${relative(imageCacheRoot(), image.tarball)})`;
}

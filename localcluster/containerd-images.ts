// Images into the node's containerd (its k8s.io namespace, the one the CRI plugin serves kubelet
// from), without a registry: a tarball imported, or a second name for an image already there (what a
// manifest that is not ours to change asks for, e.g. the injector's default sidecar image).
import { execFile } from "node:child_process";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Imports a docker-archive or OCI tarball; resolves with the time it took. */
export async function importImage(socket: string, tarball: string): Promise<number> {
  const started = Date.now();
  await run("ctr", ["--address", socket, "-n", "k8s.io", "images", "import", tarball]);
  return Date.now() - started;
}

/** Gives the image `source` (already imported) the name `target` as well (replacing an older one). */
export async function tagImage(socket: string, source: string, target: string): Promise<void> {
  await run("ctr", ["--address", socket, "-n", "k8s.io", "images", "tag", "--force", source, target]);
}

/** The names containerd holds in its k8s.io namespace. */
export async function imageNames(socket: string): Promise<string[]> {
  const { stdout } = await run("ctr", ["--address", socket, "-n", "k8s.io", "images", "ls", "-q"]);
  return stdout.split("\n").filter((l) => l !== "");
}

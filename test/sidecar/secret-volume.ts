// A directory laid out as kubelet lays out a Secret or ConfigMap volume (its AtomicWriter): the
// files live in a timestamped directory, `..data` links to it, and each key is a link through
// `..data`. An update writes a new timestamped directory and renames a new `..data` link over the
// old one (one atomic rename), then removes the old directory: what the sidecar sees in a pod.
import { mkdirSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync, existsSync, readdirSync, lstatSync } from "node:fs";
import { join } from "node:path";

let generation = 0;

/** Writes (or replaces, atomically) the volume's keys at `dir`. Keys absent from `files` disappear. */
export function writeSecretVolume(dir: string, files: Readonly<Record<string, string | Buffer>>): void {
  mkdirSync(dir, { recursive: true });
  const stamp = `..${new Date().toISOString().replace(/[-:.]/g, "_")}.${process.pid}.${++generation}`;
  mkdirSync(join(dir, stamp));
  for (const [key, content] of Object.entries(files)) writeFileSync(join(dir, stamp, key), content, { mode: 0o644 });
  const dataLink = join(dir, "..data");
  const old = existsSync(dataLink) ? readlinkSync(dataLink) : undefined;
  symlinkSync(stamp, join(dir, "..data_tmp"));
  renameSync(join(dir, "..data_tmp"), dataLink);
  for (const key of Object.keys(files)) {
    if (!existsSync(join(dir, key))) symlinkSync(join("..data", key), join(dir, key));
  }
  for (const name of readdirSync(dir)) {
    if (!name.startsWith("..") && lstatSync(join(dir, name)).isSymbolicLink() && !(name in files)) rmSync(join(dir, name));
  }
  if (old !== undefined) rmSync(join(dir, old), { recursive: true, force: true });
}

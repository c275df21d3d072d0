// Which follower reads which file, across the followed paths of one sidecar. One file can sit
// under two followed names: app.log renamed to app.log.1 while both are followed, or a path and a
// symlink to it. Read under both, its lines went out twice. The rule:
//
// - A file (device, inode, birth time) is read by one follower at a time: the first to open it
//   owns it until it closes it. Another follower that finds it at its own path reads nothing and
//   looks again at its normal pace.
// - An owner that lets a file go after reading it to its end (a rotation) leaves its identity and
//   offset here. The next follower to find that file (same first bytes, so not a new file on a
//   reused inode) starts at that offset: lines a late writer still appends are read, none twice.
import type { FileIdentity } from "./identity.ts";

/** How many finished files are remembered (only recent rotations can show up under another name). */
export const FINISHED_MAX = 256;

/** A file, as fstat names it: device, inode and birth time (an inode number is soon reused). */
export interface FileKey {
  readonly dev: bigint;
  readonly ino: bigint;
  readonly birthtimeNs: bigint;
}

export interface Finished {
  readonly identity: FileIdentity;
  /** Read (and written) up to here. */
  readonly offset: number;
  /** The path it was followed under. */
  readonly path: string;
}

export function keyOf(f: FileKey): string {
  return `${f.dev}:${f.ino}:${f.birthtimeNs}`;
}

export class FileOwners {
  readonly #owners = new Map<string, string>();
  readonly #finished = new Map<string, Finished>();

  /** The other path whose follower reads this file, if any. */
  ownerOf(key: string, path: string): string | undefined {
    const owner = this.#owners.get(key);
    return owner === path ? undefined : owner;
  }

  /** Where the last owner stopped reading this file, if one let it go after reading it to its end. */
  finished(key: string): Finished | undefined {
    return this.#finished.get(key);
  }

  /** Takes the file for `path`; returns the other owner instead when there is one. */
  claim(key: string, path: string): string | undefined {
    const other = this.ownerOf(key, path);
    if (other !== undefined) return other;
    this.#owners.set(key, path);
    this.#finished.delete(key);
    return undefined;
  }

  /** `path` lets the file go; `finished`: read to its end, for whoever finds it next. */
  release(key: string, path: string, finished?: Finished): void {
    if (this.#owners.get(key) !== path) return;
    this.#owners.delete(key);
    if (!finished) return;
    this.#finished.set(key, finished);
    if (this.#finished.size > FINISHED_MAX) this.#finished.delete(this.#finished.keys().next().value!);
  }
}

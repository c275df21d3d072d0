// The follower's named states (follower.ts). Types only: nothing here is loaded at run time.
import type { Checkpoint } from "./checkpoint.ts";
import type { OpenFile } from "./files.ts";
import type { FileIdentity } from "./identity.ts";
import type { Reported } from "./not-followed.ts";

/** Before the first look at the path. */
export interface Starting {
  readonly kind: "starting";
  /** To resume from. */
  readonly checkpoint: Checkpoint | undefined;
  /** The checkpointed file's key, claimed so no other path takes it first; kept only if it becomes the file we read. */
  readonly reserved: string | undefined;
  /** A rotated sibling born after this (ns) holds lines we have not read (undefined: none can). */
  readonly sinceNs: bigint | undefined;
}

/** No file to read for the path. */
export interface Waiting {
  readonly kind: "waiting";
  /** A rotated sibling born after this (ns) holds lines we have not read (undefined: none can). */
  sinceNs: bigint | undefined;
  /** Why, once said (not-followed.ts). */
  notFollowed: Reported | undefined;
}

/** Reading one open file. */
export interface Reading {
  readonly kind: "reading";
  readonly fh: OpenFile;
  /** The file's key in the owners registry. */
  readonly key: string;
  identity: FileIdentity;
  /** The bytes the identity's fingerprint covers, once known: polls compare them instead of hashing. */
  head: Buffer | undefined;
  /** The path names another file (or none): look at it every step until ours is let go. */
  rotatedAway: boolean;
}

export type State = Starting | Waiting | Reading;

// Which file is this? Device + inode alone breaks on inode reuse, so a fingerprint of the first
// bytes (growing with the file up to FINGERPRINT_MAX) goes with them, as Filebeat and Vector do.
import type { OpenFile } from "./files.ts";
import { sha256Hex } from "./sha256.ts";

export const FINGERPRINT_MAX = 1024;

export interface FileIdentity {
  /** Decimal strings: inode numbers can exceed 2^53 on some filesystems. */
  readonly dev: string;
  readonly ino: string;
  /** How many leading bytes the fingerprint covers (0 for an empty file). */
  readonly fingerprintLength: number;
  /** sha256 (hex) of those bytes. */
  readonly fingerprint: string;
}

export async function statIds(fh: OpenFile): Promise<{ dev: string; ino: string; size: number }> {
  const st = await fh.stat({ bigint: true });
  return { dev: st.dev.toString(), ino: st.ino.toString(), size: Number(st.size) };
}

async function readAt(fh: OpenFile, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await fh.read(buf, got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/**
 * The identity of an open file as it is now (its fingerprint over min(size, FINGERPRINT_MAX)
 * bytes), with those bytes: comparing them later needs no hashing (see compareIdentity).
 */
export async function identify(fh: OpenFile): Promise<FileIdentity & { size: number; head: Buffer }> {
  const ids = await statIds(fh);
  const head = await readAt(fh, 0, Math.min(ids.size, FINGERPRINT_MAX));
  return { ...ids, fingerprintLength: head.length, fingerprint: sha256Hex(head), head };
}

/** The bytes `known`'s fingerprint covers, if the file still starts with them (one hash, for an identity from a checkpoint). */
export async function verifiedHead(fh: OpenFile, known: FileIdentity): Promise<Buffer | undefined> {
  const head = await readAt(fh, 0, known.fingerprintLength);
  return head.length === known.fingerprintLength && sha256Hex(head) === known.fingerprint ? head : undefined;
}

export type Match = "same" | "grown" | "different";

/**
 * Does the open file still hold the content `known` was taken from? "grown": same file whose
 * fingerprint can now cover more bytes (call identify again to extend it). `knownHead`, the bytes
 * the fingerprint was taken from, replaces hashing by a byte comparison: a follower compares on
 * every poll, and a hash that runs 4 times a second soon gets compiled by V8's optimizing tiers,
 * whose code pages cost several MiB of RSS (docs/decisions.md).
 */
export async function compareIdentity(fh: OpenFile, known: FileIdentity, knownHead?: Buffer): Promise<Match> {
  const ids = await statIds(fh);
  if (ids.dev !== known.dev || ids.ino !== known.ino) return "different";
  if (ids.size < known.fingerprintLength) return "different";
  const head = await readAt(fh, 0, known.fingerprintLength);
  const same = knownHead?.length === known.fingerprintLength ? head.equals(knownHead) : sha256Hex(head) === known.fingerprint;
  if (!same) return "different";
  return known.fingerprintLength < FINGERPRINT_MAX && ids.size > known.fingerprintLength ? "grown" : "same";
}

/** Hash of the bytes just before `offset` (up to 64): a resume only trusts an offset whose preceding bytes still match. */
export async function tailHash(fh: OpenFile, offset: number): Promise<{ length: number; sha256: string }> {
  const length = Math.min(offset, 64);
  const bytes = await readAt(fh, offset - length, length);
  return { length: bytes.length, sha256: sha256Hex(bytes) };
}

export { readAt };

// On a truncation, the lines we had not read yet are usually still in the copy logrotate's
// copytruncate just made (app.log.1, app.log-20240101, ...). Finding it shrinks the loss to what
// the application wrote between the copy and the truncate, the window no tailer can close.
import { open, type OpenFile } from "./files.ts";
import { readAt, verifiedHead, type FileIdentity } from "./identity.ts";
import { scanSiblings, type Sibling } from "./rotated-siblings.ts";

/** Rotated siblings long enough to hold the truncated file's bytes up to `pos`, newest first: the order to try them in. */
export function copyCandidates(siblings: readonly Sibling[], pos: number): Sibling[] {
  return siblings.filter((s) => s.st.size > BigInt(pos)).sort((a, b) => (a.st.birthtimeNs === b.st.birthtimeNs ? 0 : a.st.birthtimeNs > b.st.birthtimeNs ? -1 : 1));
}

/**
 * An uncompressed sibling of `path` longer than `pos` that starts like the truncated file did and
 * holds exactly `before` just before `pos` (the newest such): the copy to finish reading from `pos`.
 */
export async function findCopy(path: string, identity: FileIdentity, pos: number, before: Buffer): Promise<{ path: string; fh: OpenFile } | undefined> {
  if (before.length === 0) return undefined;
  for (const candidate of copyCandidates(await scanSiblings(path), pos)) {
    const fh = await open(candidate.path, "r").catch(() => undefined);
    if (!fh) continue;
    if (await holds(fh, identity, pos, before)) return { path: candidate.path, fh };
    await fh.close();
  }
  return undefined;
}

async function holds(fh: OpenFile, identity: FileIdentity, pos: number, before: Buffer): Promise<boolean> {
  if ((await verifiedHead(fh, identity)) === undefined) return false;
  return (await readAt(fh, pos - before.length, before.length)).equals(before);
}

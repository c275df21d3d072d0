// On a truncation, the lines we had not read yet are usually still in the copy logrotate's
// copytruncate just made (app.log.1, app.log-20240101, ...). Finding it shrinks the loss to what
// the application wrote between the copy and the truncate, the window no tailer can close.
import { open, readdir, stat, type OpenFile } from "./files.ts";
import { basename, dirname, join } from "node:path";
import { readAt, verifiedHead, type FileIdentity } from "./identity.ts";
import { isRotatedName } from "./skipped-rotations.ts";

/**
 * An uncompressed sibling of `path` longer than `pos` that starts like the truncated file did and
 * holds exactly `before` just before `pos`: the copy to finish reading from `pos`.
 */
export async function findCopy(path: string, identity: FileIdentity, pos: number, before: Buffer): Promise<{ path: string; fh: OpenFile } | undefined> {
  if (before.length === 0) return undefined;
  const dir = dirname(path);
  const base = basename(path);
  const names = await readdir(dir).catch(() => [] as string[]);
  let best: { path: string; birth: bigint } | undefined;
  for (const name of names) {
    if (!isRotatedName(base, name)) continue;
    const candidate = join(dir, name);
    const st = await stat(candidate, { bigint: true }).catch(() => undefined);
    if (!st?.isFile() || st.size <= BigInt(pos)) continue;
    if (!best || st.birthtimeNs > best.birth) {
      if (await matches(candidate, identity, pos, before)) best = { path: candidate, birth: st.birthtimeNs };
    }
  }
  if (!best) return undefined;
  const fh = await open(best.path, "r").catch(() => undefined);
  return fh ? { path: best.path, fh } : undefined;
}

async function matches(candidate: string, identity: FileIdentity, pos: number, before: Buffer): Promise<boolean> {
  const fh = await open(candidate, "r").catch(() => undefined);
  if (!fh) return false;
  try {
    if ((await verifiedHead(fh, identity)) === undefined) return false;
    return (await readAt(fh, pos - before.length, before.length)).equals(before);
  } finally {
    await fh.close();
  }
}

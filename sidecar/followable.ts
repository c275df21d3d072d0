// What can be followed: a regular file whose size says how much it holds. Everything else is
// refused by kind, for its path alone: a FIFO would block the open or the reads (and with them
// every other file on this thread), a socket or device is no log file, a directory cannot be
// read, and a procfs or sysfs file reports a size (0 or 4096) unrelated to its content, so a
// follower would read it again and again as "truncated" or spin on "more to read"
// (`/proc/self/environ` produced 23 MB of repeated output in 3 s).

/** Why a path that exists is not followed. */
export type Refusal = "directory" | "fifo" | "socket" | "device" | "pseudo-file" | "not-regular";

/** The file-type questions of a (Big)Stats. */
export interface FileType {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
}

/**
 * statfs(2) f_type of filesystems whose files report no real size: proc, sysfs, debugfs,
 * tracefs, securityfs, cgroup, cgroup2, configfs, efivarfs, pstore, bpf (linux/magic.h).
 */
export const PSEUDO_FILESYSTEMS: ReadonlySet<number> = new Set([
  0x9fa0, 0x62656572, 0x64626720, 0x74726163, 0x73636673, 0x27e0eb, 0x63677270, 0x62656570, 0xde5e81e4, 0x6165676c, 0xcafe4a11,
]);

/** The refusal for a file of this type, or undefined for a regular file. */
export function refusalFor(st: FileType): Refusal | undefined {
  if (st.isFile()) return undefined;
  if (st.isDirectory()) return "directory";
  if (st.isFIFO()) return "fifo";
  if (st.isSocket()) return "socket";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "device";
  return "not-regular";
}

/**
 * Whether an open regular file is a pseudo-file: it lives on a pseudo filesystem (`fsType`, when
 * statfs told it), or it reports size 0 and a read returns bytes all the same (`sizeAfterRead`:
 * its size stat'ed again after that read, since a writer may have just appended).
 */
export function isPseudoFile(fsType: number | undefined, size: bigint, bytesAtStart: number, sizeAfterRead: bigint): boolean {
  if (fsType !== undefined && PSEUDO_FILESYSTEMS.has(fsType)) return true;
  return size === 0n && bytesAtStart > 0 && sizeAfterRead === 0n;
}

/** For the diagnostics: what the path is. */
export function describeRefusal(r: Refusal): string {
  switch (r) {
    case "directory":
      return "the path is a directory";
    case "fifo":
      return "the path is a FIFO (named pipe), which would block the sidecar";
    case "socket":
      return "the path is a socket";
    case "device":
      return "the path is a device";
    case "pseudo-file":
      return "the path is a procfs/sysfs pseudo-file, whose size does not say what it holds";
    case "not-regular":
      return "the path is not a regular file";
  }
}

// The time a forwarded line carries, as a function of its byte offset, so that a line sent again
// after a crash carries the time it was first sent with: Loki drops an entry whose stream, time
// and line it already has, and any backend sees the copy as identical (docs/decisions.md, "Replays
// with the same times").
//
// An anchor says: the line starting at offset o of the file `fileKey` has the time ns + (o - from),
// for o in [from, until). One nanosecond a byte keeps lines strictly increasing and in file order.
// The anchor is written to the checkpoint BEFORE the first line it stamps is sent (write-ahead), and
// `until` bounds what this run may send under it, so a restart knows which offsets may have been
// sent with it (they must keep it) and from where it may choose new times.
//
// Pure: the plan for one batch from what the follower knows; file-output.ts carries it out.

export interface TimeAnchor {
  /** The file incarnation (file-output.ts's fileKey): another file, or the same after a truncation, gets an anchor of its own. */
  readonly fileKey: string;
  /** Offset the anchor's time belongs to. */
  readonly from: number;
  /** Nanoseconds since the epoch of the line at `from`. */
  readonly ns: bigint;
  /** End of the lease: no line at or after it is sent before a new anchor (or a longer lease) is saved. */
  readonly until: number;
}

/** A batch's lines [start, end) of `fileKey`, about to be sent, and what is known when it is. */
export interface StampLook {
  readonly anchor: TimeAnchor | undefined;
  /**
   * Lines before this offset may have been sent under `anchor` already (by this run, or by the run
   * the checkpoint came from, up to its lease): they must keep its times.
   */
  readonly mayHaveSent: number;
  /** No time given from here on may be below this (times of one followed path only increase). */
  readonly floorNs: bigint;
  readonly fileKey: string;
  readonly start: number;
  readonly end: number;
  readonly nowNs: bigint;
  /** A line's time may fall this far behind the moment it is read before a new anchor is taken. */
  readonly maxLagNs: bigint;
  /** How far a new lease reaches past the batch (bytes): fewer saves at high rates. */
  readonly leaseBytes: number;
}

export type StampPlan =
  /** The anchor covers the batch: stamp it, nothing to save. */
  | { readonly kind: "stamp"; readonly anchor: TimeAnchor }
  /** The same times, a longer lease (the batch runs past `until`): save it, then stamp. */
  | { readonly kind: "extend"; readonly anchor: TimeAnchor }
  /**
   * A new anchor at the batch's start: save it, then stamp. "new-file": none yet, or for another
   * file; "lagging": the anchor's times fell more than maxLag behind the clock (a quiet spell).
   */
  | { readonly kind: "anchor"; readonly anchor: TimeAnchor; readonly why: "new-file" | "lagging" };

/**
 * A lease reaches this far past the batch that takes it: at high rates a save every 16 MiB per file
 * at most (about one a second at 80,000 lines of 200 bytes a second), besides the lag's.
 */
export const LEASE_BYTES = 16 * 1024 * 1024;

/** The time of the line starting at `offset`. */
export function timeAt(anchor: Pick<TimeAnchor, "from" | "ns">, offset: number): bigint {
  return anchor.ns + BigInt(offset - anchor.from);
}

/** Above every time the anchor may have given (a lower bound for the next anchor's times). */
export function ceilingOf(anchor: TimeAnchor): bigint {
  return timeAt(anchor, anchor.until);
}

export function planStamp(l: StampLook): StampPlan {
  const a = l.anchor;
  const lease = l.end + l.leaseBytes;
  if (a === undefined || a.fileKey !== l.fileKey || l.start < a.from) {
    const ns = l.nowNs > l.floorNs ? l.nowNs : l.floorNs;
    return { kind: "anchor", anchor: { fileKey: l.fileKey, from: l.start, ns, until: lease }, why: "new-file" };
  }
  // Lines from here on were never sent under this anchor: the clock may be followed again.
  const free = l.start >= l.mayHaveSent;
  const at = timeAt(a, l.start);
  if (free && l.nowNs - at > l.maxLagNs) {
    const ns = l.nowNs > l.floorNs ? l.nowNs : l.floorNs;
    return { kind: "anchor", anchor: { fileKey: l.fileKey, from: l.start, ns: ns > at ? ns : at, until: lease }, why: "lagging" };
  }
  if (l.end > a.until) return { kind: "extend", anchor: { ...a, until: lease } };
  return { kind: "stamp", anchor: a };
}

/**
 * An anchor's times in whole milliseconds (a JSON record's own "time" field) in plain numbers,
 * without a BigInt per record: `ms` and `subMs` split the anchor's nanoseconds.
 */
export interface MsTimes {
  readonly from: number;
  readonly ms: number;
  readonly subMs: number;
}

export function msTimes(anchor: Pick<TimeAnchor, "from" | "ns">): MsTimes {
  return { from: anchor.from, ms: Number(anchor.ns / 1_000_000n), subMs: Number(anchor.ns % 1_000_000n) };
}

/** The millisecond of the record starting at `offset` (at or after the anchor's `from`): timeAt's, truncated. */
export function msAt(t: MsTimes, offset: number): number {
  return t.ms + Math.floor((t.subMs + offset - t.from) / 1_000_000);
}

/** The first offset after `offset` whose millisecond is the next one: records before it share msAt(offset). */
export function nextMsAt(t: MsTimes, offset: number): number {
  return offset + 1_000_000 - ((t.subMs + offset - t.from) % 1_000_000);
}

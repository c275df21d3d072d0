// Cutting a read buffer into whole lines (pure). Output never ends inside a line, so a reader of
// stdout never sees half a line from one write and the rest later; lines over the limit become
// pieces that end with LINE_CONTINUES_MARKER + "\n", which a reader can rejoin.

const NL = 0x0a;

/** Appended to every piece of a split line except its last one. */
export const LINE_CONTINUES_MARKER = " [tailcar: line continues]";
const MARKER_NL = Buffer.from(LINE_CONTINUES_MARKER + "\n");
const MARKER_BYTES = Buffer.byteLength(LINE_CONTINUES_MARKER);

/**
 * The file's bytes that a framed line stands for: `textBytes` (before its "\n") and `lineBytes`
 * (with it) as framed. A marked piece of a line longer than `maxLineBytes` (the only framed lines
 * longer than that) stands for its bytes without the marker, and has no newline in the file.
 */
export function fileBytesOf(textBytes: number, lineBytes: number, maxLineBytes: number): number {
  return textBytes > maxLineBytes ? textBytes - MARKER_BYTES : lineBytes;
}

export interface Framed {
  /** Bytes to write: whole lines and marked pieces, each ending in "\n". Empty when nothing is complete. */
  readonly out: Buffer;
  /** How many input bytes `out` stands for, counted from the start of the input. */
  readonly consumed: number;
  /** Pieces cut from lines longer than the limit. */
  readonly splits: number;
}

const NOTHING: Framed = { out: Buffer.alloc(0), consumed: 0, splits: 0 };

/**
 * Whole lines at the start of `data`; a line longer than `maxLineBytes` (newline not counted) is cut
 * into marked pieces of exactly maxLineBytes, and an unterminated tail longer than the limit is cut
 * too, so what is left over is always at most maxLineBytes.
 */
export function frameLines(data: Buffer, maxLineBytes: number): Framed {
  if (data.length <= maxLineBytes) {
    // No line here can be over the limit: one search, no copy.
    const end = data.lastIndexOf(NL) + 1;
    return end === 0 ? NOTHING : { out: data.subarray(0, end), consumed: end, splits: 0 };
  }
  const parts: Buffer[] = [];
  let splits = 0;
  let pos = 0;
  let runStart = 0; // start of whole lines not yet pushed to parts
  while (pos < data.length) {
    const nl = data.indexOf(NL, pos);
    const lineEnd = nl < 0 ? data.length : nl;
    if (lineEnd - pos > maxLineBytes) {
      if (runStart < pos) parts.push(data.subarray(runStart, pos));
      while (lineEnd - pos > maxLineBytes) {
        parts.push(data.subarray(pos, pos + maxLineBytes), MARKER_NL);
        pos += maxLineBytes;
        splits++;
      }
      runStart = pos;
    }
    if (nl < 0) break;
    pos = nl + 1;
  }
  const lastWhole = data.lastIndexOf(NL) + 1;
  const consumed = Math.max(lastWhole, runStart);
  if (runStart < consumed) parts.push(data.subarray(runStart, consumed));
  if (parts.length === 0) return NOTHING;
  return { out: parts.length === 1 ? parts[0]! : Buffer.concat(parts), consumed, splits };
}

/** Number of "\n" in a buffer (metrics only: costs one native search per line). */
export function countLines(data: Buffer): number {
  let n = 0;
  let i = data.indexOf(NL);
  while (i >= 0) {
    n++;
    i = data.indexOf(NL, i + 1);
  }
  return n;
}

// How deep a JSON text nests, found before JSON.parse sees it: V8 parses deep nesting slowly (a
// body of a million "[" took 743 ms of CPU, 100,000 took 63 ms), so a deeper body is refused unread.
// One pass over the bytes, outside strings; UTF-8 keeps '"', '\' and brackets as single bytes.

/**
 * Nesting a request body may have. A Pod nests about 15 levels deep and its AdmissionReview two
 * more; the injector refuses a pod deeper than 1,000 (MAX_POD_DEPTH) anyway.
 */
export const MAX_JSON_DEPTH = 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_ARRAY = 0x5b;
const OPEN_OBJECT = 0x7b;
const CLOSE_ARRAY = 0x5d;
const CLOSE_OBJECT = 0x7d;

/**
 * Bodies shorter than this are parsed without the scan: nesting as deep as they can hold costs
 * JSON.parse a few milliseconds at most, and the scan would add microseconds to every admission.
 */
export const SCAN_FROM_BYTES = 16 * 1024;

/** Whether the JSON text in `chunks` opens more than `max` arrays or objects inside each other. */
export function nestsDeeperThan(chunks: readonly Uint8Array[], max: number = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  // Within a string, and the number of backslashes just before (a chunk may end inside a string).
  let inString = false;
  let escaped = false;
  for (const bytes of chunks) {
    let i = 0;
    // The next backslash at or after i, found once and kept: most bodies have none, and looking
    // again at every string would scan the rest of the body each time.
    let backslash = -1;
    while (i < bytes.length) {
      if (inString) {
        const c = bytes[i]!;
        if (escaped) escaped = false;
        else if (c === BACKSLASH) escaped = true;
        else if (c === QUOTE) inString = false;
        else {
          // Strings are most of a pod's bytes: jump to the next quote or backslash natively.
          const quote = bytes.indexOf(QUOTE, i);
          if (backslash < i) {
            const found = bytes.indexOf(BACKSLASH, i);
            backslash = found < 0 ? Infinity : found;
          }
          const next = Math.min(quote < 0 ? Infinity : quote, backslash);
          if (next === Infinity) break;
          i = next;
          continue;
        }
        i++;
        continue;
      }
      const b = bytes[i++]!;
      if (b === QUOTE) inString = true;
      else if (b === OPEN_ARRAY || b === OPEN_OBJECT) {
        if (++depth > max) return true;
      } else if (b === CLOSE_ARRAY || b === CLOSE_OBJECT) depth--;
    }
  }
  return false;
}

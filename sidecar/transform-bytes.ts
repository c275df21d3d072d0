// A growable byte buffer for building one push's output without a Buffer per line.

export class ByteBuilder {
  buf: Buffer;
  length = 0;

  constructor(initialCapacity = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initialCapacity);
  }

  /** Makes room for `n` more bytes; callers then write at `length` without bounds checks. */
  reserve(n: number): void {
    const need = this.length + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  append(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.reserve(n);
    this.buf.set(start === 0 && end === src.length ? src : src.subarray(start, end), this.length);
    this.length += n;
  }

  /** Empties the builder, dropping a buffer that one huge record grew beyond `keep` bytes. */
  clear(keep = 4 * 1024 * 1024): void {
    this.length = 0;
    if (this.buf.length > keep) this.buf = Buffer.allocUnsafe(Math.min(64 * 1024, keep));
  }

  /**
   * The bytes built so far, as a view of the builder's own memory, then empties the builder: no
   * allocation, no copy, but the view is overwritten by whatever is built next.
   */
  view(): Buffer {
    const out = this.buf.subarray(0, this.length);
    this.clear();
    return out;
  }

  /**
   * The bytes built so far as a Buffer of their own, then empties the builder. A copy, because the
   * caller may still be writing the previous output asynchronously while we build the next one.
   */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.length);
    this.buf.copy(out, 0, 0, this.length);
    this.clear();
    return out;
  }
}

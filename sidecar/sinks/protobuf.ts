// The protobuf wire format, the little of it the OTLP sink needs: varints and tags to write a
// message, and a reader that splits a message into its fields (for the export answer, and for
// tests that read back what was encoded). No generated code, no dependency.

export const WIRE = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;
export type WireType = (typeof WIRE)[keyof typeof WIRE];

/** The key byte(s) of a field: (number << 3) | wire type. */
export function tag(field: number, wire: WireType): number {
  return (field << 3) | wire;
}

/** Bytes a varint of `n` takes (0 ≤ n < 2^53). */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes `n` (0 ≤ n < 2^53) as a varint at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/** One field of a message as read: a varint or fixed value as a bigint, a LEN field as its bytes. */
export type ProtoField =
  | { readonly field: number; readonly wire: typeof WIRE.VARINT | typeof WIRE.I64 | typeof WIRE.I32; readonly value: bigint }
  | { readonly field: number; readonly wire: typeof WIRE.LEN; readonly bytes: Uint8Array };

export class ProtobufError extends Error {}

function readVarint(buf: Uint8Array, pos: number): [bigint, number] {
  let value = 0n;
  for (let shift = 0n; shift < 70n; shift += 7n) {
    if (pos >= buf.length) throw new ProtobufError("truncated varint");
    const b = buf[pos++]!;
    value |= BigInt(b & 0x7f) << shift;
    if (b < 0x80) return [value, pos];
  }
  throw new ProtobufError("varint longer than 10 bytes");
}

/** The fields of one message, in order (repeated fields appear once per element). Throws ProtobufError on malformed input. */
export function readFields(buf: Uint8Array): ProtoField[] {
  const fields: ProtoField[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, afterKey] = readVarint(buf, pos);
    pos = afterKey;
    const field = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (field === 0) throw new ProtobufError("field number 0");
    if (wire === WIRE.VARINT) {
      const [value, next] = readVarint(buf, pos);
      fields.push({ field, wire, value });
      pos = next;
    } else if (wire === WIRE.I64 || wire === WIRE.I32) {
      const width = wire === WIRE.I64 ? 8 : 4;
      if (pos + width > buf.length) throw new ProtobufError(`truncated fixed${width * 8}`);
      const view = new DataView(buf.buffer, buf.byteOffset + pos, width);
      fields.push({ field, wire, value: wire === WIRE.I64 ? view.getBigUint64(0, true) : BigInt(view.getUint32(0, true)) });
      pos += width;
    } else if (wire === WIRE.LEN) {
      const [len, next] = readVarint(buf, pos);
      if (BigInt(next) + len > BigInt(buf.length)) throw new ProtobufError(`field ${field}: length ${len} past the end`);
      fields.push({ field, wire, bytes: buf.subarray(next, next + Number(len)) });
      pos = next + Number(len);
    } else {
      throw new ProtobufError(`field ${field}: unsupported wire type ${wire}`);
    }
  }
  return fields;
}

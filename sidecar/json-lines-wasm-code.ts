// The WebAssembly module behind json-lines-wasm.ts, assembled here from its instructions: no
// toolchain and no binary blob, the function is about 90 instructions and each stays next to what
// it means. The module exports `mem` (its memory), `pos` (a global) and
//
//   encode(i, end, pos, limit, joint, tailLen, jointLen) -> i
//
// which turns the lines of mem[i, end) into the inside of JSON records at mem[pos…]: bytes copied
// as they are, `"`, `\` and bytes below 0x20 written as the escape sequences of the table at
// mem[0, 2048) (8 bytes a byte: the sequence, its length in the eighth), and each newline written
// as mem[joint, joint + jointLen) (the end of a record and the start of the next), or its first
// tailLen bytes for a newline that is the input's last byte. It reads and writes 32 bytes at a
// time (SIMD, two 16-byte vectors): the input must be followed by 32 bytes that need no escaping,
// and 40 + jointLen bytes must be writable after `limit`. It stops at `end`, or before writing
// past `limit`; returns where it stopped in the input, and leaves in `pos` where the output stops
// (when it returns an `i` past `end`, the `i - end` bytes of padding are counted in `pos`).
//
// Opcodes: WebAssembly core specification 2.0, sections 5.4 (instructions) and 5.5 (modules).

/** Unsigned LEB128. */
function u(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (i32.const). */
function s(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...u(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...u(body.length), ...body];
const name = (text: string): number[] => vec([...Buffer.from(text, "utf8")].map((b) => [b]));

// Parameters, then locals, by index.
const I = 0, END = 1, POS = 2, LIMIT = 3, JOINT = 4, TAIL_LEN = 5, JOINT_LEN = 6;
const V = 7, V2 = 8, MASK = 9, B = 10, N = 11;

const I32 = 0x7f;
const V128 = 0x7b;
const EMPTY_TYPE = 0x40;

const get = (l: number): number[] => [0x20, l];
const set = (l: number): number[] => [0x21, l];
const tee = (l: number): number[] => [0x22, l];
const i32 = (n: number): number[] => [0x41, ...s(n)];
const block = [0x02, EMPTY_TYPE];
const loop = [0x03, EMPTY_TYPE];
const if_ = [0x04, EMPTY_TYPE];
const else_ = [0x05];
const end = [0x0b];
const br = (depth: number): number[] => [0x0c, depth];
const brIf = (depth: number): number[] => [0x0d, depth];
const select = [0x1b];
const add = [0x6a];
const shl = [0x74];
const ctz = [0x68];
const eq = [0x46];
const eqz = [0x45];
const ltU = [0x49];
const gtU = [0x4b];
const geU = [0x4f];
const load8u = (offset: number): number[] => [0x2d, 0, ...u(offset)];
const i64Load = [0x29, 3, 0];
const i64Store = [0x37, 3, 0];
const simd = (op: number, ...imm: number[]): number[] => [0xfd, ...u(op), ...imm];
const v128Load = simd(0x00, 0, 0);
const v128Store = simd(0x0b, 0, 0);
const v128Load16 = simd(0x00, 0, 16);
const v128Store16 = simd(0x0b, 0, 16);
const or = [0x72];
const memoryCopy = [0xfc, ...u(10), 0, 0];
const splat8 = (b: number): number[] => simd(0x0c, ...new Array<number>(16).fill(b));
const i8x16Eq = simd(0x23);
const i8x16LtU = simd(0x26);
const v128Or = simd(0x50);
const bitmask = simd(0x64);
const globalSet = (g: number): number[] => [0x24, g];
/** A bit for each of v's 16 bytes that is below 0x20, a quote or a backslash. */
const special = (v: number): number[] => [
  ...get(v), ...splat8(0x20), ...i8x16LtU,
  ...get(v), ...splat8(0x22), ...i8x16Eq, ...v128Or,
  ...get(v), ...splat8(0x5c), ...i8x16Eq, ...v128Or,
  ...bitmask,
];
const inc = (l: number, by: number[]): number[] => [...get(l), ...by, ...add, ...set(l)];

const body: number[] = [
  ...block,
  ...loop,
  // Done at the input's end, or when the next step might write past the room left.
  ...get(I), ...get(END), ...geU, ...brIf(1),
  ...get(POS), ...get(LIMIT), ...gtU, ...brIf(1),
  // Copy 32 bytes ahead, then see whether any of them is a newline or needs escaping.
  ...get(POS), ...get(I), ...v128Load, ...tee(V), ...v128Store,
  ...special(V),
  ...get(POS), ...get(I), ...v128Load16, ...tee(V2), ...v128Store16,
  ...special(V2), ...i32(16), ...shl, ...or,
  ...tee(MASK), ...eqz,
  ...if_,
  ...inc(I, i32(32)), ...inc(POS, i32(32)), ...br(1),
  ...end,
  // The bytes before the first special one are in place: step to it.
  ...get(MASK), ...ctz, ...set(MASK),
  ...inc(I, get(MASK)), ...inc(POS, get(MASK)),
  ...get(I), ...load8u(0), ...set(B),
  ...inc(I, i32(1)),
  ...get(B), ...i32(0x0a), ...eq,
  ...if_,
  // A newline: the joint, or only the record's tail after the input's last byte.
  ...get(JOINT_LEN), ...get(TAIL_LEN), ...get(I), ...get(END), ...ltU, ...select, ...set(N),
  ...get(POS), ...get(JOINT), ...get(N), ...memoryCopy,
  ...inc(POS, get(N)),
  ...else_,
  // An escape: 8 bytes from the table, of which the eighth says how many count.
  ...get(POS), ...get(B), ...i32(3), ...shl, ...i64Load, ...i64Store,
  ...inc(POS, [...get(B), ...i32(3), ...shl, ...load8u(7)]),
  ...end,
  ...br(0),
  ...end,
  ...end,
  ...get(POS), ...globalSet(0),
  ...get(I),
  ...end,
];

const code = [...vec([[2, V128], [3, I32]].map(([n, t]) => [...u(n!), t!])), ...body];

/** The module's bytes. */
export const JSON_LINES_WASM: Uint8Array = new Uint8Array([
  ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
  ...section(1, vec([[0x60, ...vec(new Array<number[]>(7).fill([I32])), ...vec([[I32]])]])),
  ...section(3, vec([u(0)])),
  ...section(5, vec([[0x00, ...u(1)]])),
  ...section(6, vec([[I32, 0x01, ...i32(0), ...end]])),
  ...section(7, vec([[...name("encode"), 0x00, 0], [...name("mem"), 0x02, 0], [...name("pos"), 0x03, 0]])),
  ...section(10, vec([[...u(code.length), ...code]])),
]);

/**
 * SipHash-c-d of one 32-bit word, as a WebAssembly function: WebAssembly has native 64-bit
 * integers, where JavaScript would need four 32-bit operations for each 64-bit add or rotate —
 * about five times faster, which matters because mh hashes every new connection. The module is
 * assembled here from its instructions (about 300 bytes), so there is no binary file to trust.
 *
 * sip(word, k0hi, k0lo, k1hi, k1lo, c, d) → the low 32 bits of SipHash-c-d(key, 4-byte message):
 *   v0..v3 = "somepseudorandomlygeneratedbytes" XOR k0, k1, k0, k1
 *   b = 4 << 56 | word;  v3 ^= b
 *   c rounds; v0 ^= b; v2 ^= 0xff; d rounds        (as one loop: at round c, the XORs)
 *   return low32(v0 ^ v1 ^ v2 ^ v3)
 */

/** The compiled function; arguments are 32-bit integers (numbers beyond 2³¹ wrap, as ToInt32 does). */
export type SipFunction = (
  word: number,
  k0hi: number,
  k0lo: number,
  k1hi: number,
  k1lo: number,
  compressionRounds: number,
  finalizationRounds: number,
) => number;

// Parameters 0–6 as in SipFunction; locals 7–10 = v0..v3 and 11 = b (i64), 12 = round, 13 = total (i32).
const [WORD, K0HI, K0LO, K1HI, K1LO, C_ROUNDS, D_ROUNDS, V0, V1, V2, V3, B, ROUND, TOTAL] = [
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
];
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: 0x0b,
  br: 0x0c,
  brIf: 0x0d,
  get: 0x20,
  set: 0x21,
  i32Const: 0x41,
  i64Const: 0x42,
  i32Eq: 0x46,
  i32GeU: 0x4f,
  i32Add: 0x6a,
  i64Add: 0x7c,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Shl: 0x86,
  i64Rotl: 0x89,
  i32WrapI64: 0xa7,
  i64ExtendI32U: 0xad,
};
const I32 = 0x7f;
const I64 = 0x7e;

function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  do {
    const low = rest & 0x7f;
    rest >>>= 7;
    bytes.push(rest ? low | 0x80 : low);
  } while (rest);
  return bytes;
}

function signedLeb64(value: bigint): number[] {
  const bytes: number[] = [];
  let rest = BigInt.asIntN(64, value);
  for (;;) {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    const done = (rest === 0n && (low & 0x40) === 0) || (rest === -1n && (low & 0x40) !== 0);
    bytes.push(done ? low : low | 0x80);
    if (done) return bytes;
  }
}

const get = (local: number) => [op.get, local];
const set = (local: number) => [op.set, local];
const i64 = (value: bigint) => [op.i64Const, ...signedLeb64(value)];
/** (hi << 32 | lo) from two i32 parameters. */
const key64 = (hi: number, lo: number) => [
  ...get(hi),
  op.i64ExtendI32U,
  ...i64(32n),
  op.i64Shl,
  ...get(lo),
  op.i64ExtendI32U,
  op.i64Or,
];
/** a += b */
const addTo = (a: number, b: number) => [...get(a), ...get(b), op.i64Add, ...set(a)];
/** a = rotl(a, bits) ^ b */
const rotateXor = (a: number, bits: bigint, b: number) => [
  ...get(a),
  ...i64(bits),
  op.i64Rotl,
  ...get(b),
  op.i64Xor,
  ...set(a),
];
const rotate32 = (a: number) => [...get(a), ...i64(32n), op.i64Rotl, ...set(a)];

// biome-ignore format: one SipRound statement per line
const sipRound = [
  ...addTo(V0, V1), ...rotateXor(V1, 13n, V0), ...rotate32(V0), // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
  ...addTo(V2, V3), ...rotateXor(V3, 16n, V2),                  // v2 += v3; v3 = rotl(v3, 16) ^ v2
  ...addTo(V0, V3), ...rotateXor(V3, 21n, V0),                  // v0 += v3; v3 = rotl(v3, 21) ^ v0
  ...addTo(V2, V1), ...rotateXor(V1, 17n, V2), ...rotate32(V2), // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
];

// biome-ignore format: one statement per line
const body = [
  ...key64(K0HI, K0LO), ...i64(0x736f6d6570736575n), op.i64Xor, ...set(V0),      // v0 = k0 ^ "somepseu"
  ...key64(K1HI, K1LO), ...i64(0x646f72616e646f6dn), op.i64Xor, ...set(V1),      // v1 = k1 ^ "dorandom"
  ...key64(K0HI, K0LO), ...i64(0x6c7967656e657261n), op.i64Xor, ...set(V2),      // v2 = k0 ^ "lygenera"
  ...key64(K1HI, K1LO), ...i64(0x7465646279746573n), op.i64Xor, ...set(V3),      // v3 = k1 ^ "tedbytes"
  ...get(WORD), op.i64ExtendI32U, ...i64(0x0400000000000000n), op.i64Or, ...set(B), // b = 4 << 56 | word
  ...get(V3), ...get(B), op.i64Xor, ...set(V3),                                  // v3 ^= b
  ...get(C_ROUNDS), ...get(D_ROUNDS), op.i32Add, ...set(TOTAL),                  // total = c + d
  ...op.block, ...op.loop,                                                       // for (round = 0; round < total; round++) {
  ...get(ROUND), ...get(TOTAL), op.i32GeU, op.brIf, 1,                           //   (leave when round >= total)
  ...get(ROUND), ...get(C_ROUNDS), op.i32Eq, ...op.if,                           //   if (round == c) {
  ...get(V0), ...get(B), op.i64Xor, ...set(V0),                                  //     v0 ^= b
  ...get(V2), ...i64(0xffn), op.i64Xor, ...set(V2),                              //     v2 ^= 0xff
  op.end,                                                                        //   }
  ...sipRound,                                                                   //   SipRound
  ...get(ROUND), op.i32Const, 1, op.i32Add, ...set(ROUND), op.br, 0,             // }
  op.end, op.end,
  ...get(V0), ...get(V1), op.i64Xor, ...get(V2), op.i64Xor, ...get(V3), op.i64Xor, op.i32WrapI64, // low32(v0 ^ v1 ^ v2 ^ v3)
  op.end,
];

const vector = (items: number[][]) => [...unsignedLeb(items.length), ...items.flat()];
const section = (id: number, content: number[]) => [id, ...unsignedLeb(content.length), ...content];
const functionBody = [
  ...vector([
    [5, I64],
    [2, I32],
  ]),
  ...body,
];

// biome-ignore format: one section per line
const moduleBytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                                                   // "\0asm", version 1
  ...section(1, vector([[0x60, ...vector(Array.from({ length: 7 }, () => [I32])), ...vector([[I32]])]])), // type: (7 × i32) → i32
  ...section(3, vector([[0]])),                                                                     // function 0 has type 0
  ...section(7, vector([[...vector([[0x73], [0x69], [0x70]]), 0x00, 0]])),                          // export "sip" = function 0
  ...section(10, vector([[...unsignedLeb(functionBody.length), ...functionBody]])),                 // code
]);

export const sip = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes)).exports.sip as SipFunction;

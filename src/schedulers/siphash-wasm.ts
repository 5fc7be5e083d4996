/**
 * SipHash-c-d of one 32-bit word, reduced modulo a number, compiled to WebAssembly for one key
 * and one round count: WebAssembly has native 64-bit integers, where JavaScript would need four
 * 32-bit operations for each 64-bit add or rotate; with the key folded into constants and the
 * rounds unrolled, a hash is one call; and the unsigned remainder is one instruction there, where
 * JavaScript would take it of a double — mh hashes every new connection. The module is assembled
 * here from its instructions (a few hundred bytes), so there is no binary file to trust.
 *
 * hash(word, modulus) → the low 32 bits of SipHash-c-d(key, 4-byte little-endian message `word`),
 * as an unsigned number, modulo `modulus`:
 *   v0..v3 = "somepseudorandomlygeneratedbytes" XOR k0, k1, k0, k1   (constants here)
 *   b = 4 << 56 | word;  v3 ^= b
 *   c rounds; v0 ^= b; v2 ^= 0xff; d rounds
 *   return low32(v0 ^ v1 ^ v2 ^ v3) % modulus
 */

// Parameters 0 and 1 are the word and the modulus (i32); locals 2–5 are v0..v3 and 6 is b (i64).
const [WORD, MODULUS, V0, V1, V2, V3, B] = [0, 1, 2, 3, 4, 5, 6];
const op = {
  end: 0x0b,
  get: 0x20,
  set: 0x21,
  i64Const: 0x42,
  i64Add: 0x7c,
  i64Or: 0x84,
  i64Xor: 0x85,
  i64Rotl: 0x89,
  i32RemU: 0x70,
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
/** a += b */
const addTo = (a: number, b: number) => [...get(a), ...get(b), op.i64Add, ...set(a)];
/** a ^= b */
const xorInto = (a: number, b: number[]) => [...get(a), ...b, op.i64Xor, ...set(a)];
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
const rounds = (count: number) => Array.from({ length: count }, () => sipRound).flat();

function functionBody(
  k0: bigint,
  k1: bigint,
  compressionRounds: number,
  finalizationRounds: number,
): number[] {
  // biome-ignore format: one statement per line
  const body = [
    ...i64(k0 ^ 0x736f6d6570736575n), ...set(V0),                          // v0 = k0 ^ "somepseu"
    ...i64(k1 ^ 0x646f72616e646f6dn), ...set(V1),                          // v1 = k1 ^ "dorandom"
    ...i64(k0 ^ 0x6c7967656e657261n), ...set(V2),                          // v2 = k0 ^ "lygenera"
    ...get(WORD), op.i64ExtendI32U, ...i64(0x0400000000000000n), op.i64Or, ...set(B), // b = 4 << 56 | word
    ...i64(k1 ^ 0x7465646279746573n), ...get(B), op.i64Xor, ...set(V3),    // v3 = k1 ^ "tedbytes" ^ b
    ...rounds(compressionRounds),
    ...xorInto(V0, get(B)),                                                // v0 ^= b
    ...xorInto(V2, i64(0xffn)),                                            // v2 ^= 0xff
    ...rounds(finalizationRounds),
    ...get(V0), ...get(V1), op.i64Xor, ...get(V2), op.i64Xor, ...get(V3), op.i64Xor, op.i32WrapI64, // low32(v0 ^ v1 ^ v2 ^ v3)
    ...get(MODULUS), op.i32RemU,                                           // % modulus
    op.end,
  ];
  return [...vector([[5, I64]]), ...body];
}

const vector = (items: number[][]) => [...unsignedLeb(items.length), ...items.flat()];
const section = (id: number, content: number[]) => [id, ...unsignedLeb(content.length), ...content];

/** A word's hash modulo `modulus`; a modulus of 0 throws (WebAssembly's division by zero). */
export type SipHashModulo = (word: number, modulus: number) => number;

/** SipHash-c-d for the 128-bit key (k0, k1), each a 64-bit word, modulo 1 … 2³¹ − 1. */
export function compileSipHash(
  k0: bigint,
  k1: bigint,
  compressionRounds: number,
  finalizationRounds: number,
): SipHashModulo {
  const code = functionBody(k0, k1, compressionRounds, finalizationRounds);
  // biome-ignore format: one section per line
  const moduleBytes = new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,                                   // "\0asm", version 1
    ...section(1, vector([[0x60, ...vector([[I32],[I32]]), ...vector([[I32]])]])),           // type: (i32, i32) → i32
    ...section(3, vector([[0]])),                                                     // function 0 has type 0
    ...section(7, vector([[...vector([[0x73], [0x69], [0x70]]), 0x00, 0]])),          // export "sip" = function 0
    ...section(10, vector([[...unsignedLeb(code.length), ...code]])),                 // code
  ]);
  return new WebAssembly.Instance(new WebAssembly.Module(moduleBytes)).exports.sip as SipHashModulo;
}

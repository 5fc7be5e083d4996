/**
 * The hash functions IPVS's hashing schedulers use, bit for bit, so that a table or a pick here
 * is the one the kernel would make for the same addresses.
 *
 * - `hash32`: the kernel's hash_32() (include/linux/hash.h): multiply by GOLDEN_RATIO_32 and keep
 *   the top bits. sh, dh, lblc and lblcr hash addresses with it.
 * - `sipHashWord`: SipHash-c-d over one 32-bit word. ip_vs_mh uses hsiphash(), which on 64-bit
 *   kernels is SipHash-1-3 keyed by two unsigned longs; the 64-bit arithmetic is done here on
 *   pairs of 32-bit halves, as JavaScript numbers hold only 53 bits exactly.
 */
import { isIPv4 } from 'node:net';
import { ipv4ToNumber } from '../model/ip.js';

const GOLDEN_RATIO_32 = 0x61c88647;

/** hash_32(value, bits): the top `bits` bits of value × GOLDEN_RATIO_32 (mod 2³²). */
export function hash32(value: number, bits: number): number {
  return Math.imul(value, GOLDEN_RATIO_32) >>> (32 - bits);
}

/** A 128-bit SipHash key as its two 64-bit words, each split into high and low 32 bits. */
export interface SipKey {
  readonly k0hi: number;
  readonly k0lo: number;
  readonly k1hi: number;
  readonly k1lo: number;
}

export interface SipRounds {
  readonly compression: number;
  readonly finalization: number;
}

/** hsiphash() on a 64-bit kernel. */
export const HSIPHASH_ROUNDS: SipRounds = { compression: 1, finalization: 3 };

/**
 * SipHash of the 4-byte little-endian message `word`, truncated to its low 32 bits (what
 * hsiphash() returns). `rounds` defaults to the kernel's 1-3.
 */
export function sipHashWord(word: number, key: SipKey, rounds: SipRounds = HSIPHASH_ROUNDS): number {
  // v0..v3 = the "somepseudorandomlygeneratedbytes" constants XOR the key.
  const s = new Uint32Array(8);
  s[0] = 0x736f6d65 ^ key.k0hi;
  s[1] = 0x70736575 ^ key.k0lo;
  s[2] = 0x646f7261 ^ key.k1hi;
  s[3] = 0x6e646f6d ^ key.k1lo;
  s[4] = 0x6c796765 ^ key.k0hi;
  s[5] = 0x6e657261 ^ key.k0lo;
  s[6] = 0x74656462 ^ key.k1hi;
  s[7] = 0x79746573 ^ key.k1lo;
  // The last (only) block: the message length (4) in the top byte, the 4 message bytes below.
  const bHi = 0x04000000;
  const bLo = word >>> 0;
  s[6] = (s[6] as number) ^ bHi;
  s[7] = (s[7] as number) ^ bLo;
  for (let i = 0; i < rounds.compression; i++) sipRound(s);
  s[0] = (s[0] as number) ^ bHi;
  s[1] = (s[1] as number) ^ bLo;
  s[5] = (s[5] as number) ^ 0xff;
  for (let i = 0; i < rounds.finalization; i++) sipRound(s);
  return ((s[1] as number) ^ (s[3] as number) ^ (s[5] as number) ^ (s[7] as number)) >>> 0;
}

/** One SipRound on state [v0hi, v0lo, v1hi, v1lo, v2hi, v2lo, v3hi, v3lo]. */
function sipRound(s: Uint32Array): void {
  let v0h = s[0] as number;
  let v0l = s[1] as number;
  let v1h = s[2] as number;
  let v1l = s[3] as number;
  let v2h = s[4] as number;
  let v2l = s[5] as number;
  let v3h = s[6] as number;
  let v3l = s[7] as number;
  let lo: number;
  let t: number;
  // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
  lo = (v0l + v1l) >>> 0;
  v0h = (v0h + v1h + (lo < v0l ? 1 : 0)) >>> 0;
  v0l = lo;
  t = (v1h << 13) | (v1l >>> 19);
  v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
  v1h = t ^ v0h;
  t = v0h;
  v0h = v0l;
  v0l = t;
  // v2 += v3; v3 = rotl(v3, 16) ^ v2
  lo = (v2l + v3l) >>> 0;
  v2h = (v2h + v3h + (lo < v2l ? 1 : 0)) >>> 0;
  v2l = lo;
  t = (v3h << 16) | (v3l >>> 16);
  v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
  v3h = t ^ v2h;
  // v0 += v3; v3 = rotl(v3, 21) ^ v0
  lo = (v0l + (v3l >>> 0)) >>> 0;
  v0h = (v0h + (v3h >>> 0) + (lo < v0l ? 1 : 0)) >>> 0;
  v0l = lo;
  t = (v3h << 21) | (v3l >>> 11);
  v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
  v3h = t ^ v0h;
  // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
  lo = (v2l + (v1l >>> 0)) >>> 0;
  v2h = (v2h + (v1h >>> 0) + (lo < v2l ? 1 : 0)) >>> 0;
  v2l = lo;
  t = (v1h << 17) | (v1l >>> 15);
  v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
  v1h = t ^ v2h;
  s[0] = v0h;
  s[1] = v0l;
  s[2] = v1h;
  s[3] = v1l;
  s[4] = v2l;
  s[5] = v2h;
  s[6] = v3h;
  s[7] = v3l;
}

/** An address as IPVS hashes it: IPv4 as a host-order 32-bit number, IPv6 folded by XOR of its words. */
export function addressKey(ip: string): number {
  return ipv4ToNumber(ip);
}

/** Splits an endpoint id `ip:port` or `[ipv6]:port` into its address key and port. */
export function endpointHashInput(id: string): { address: number; port: number } {
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(id);
  if (bracketed) return { address: addressKey(bracketed[1] ?? ''), port: Number(bracketed[2]) };
  const colon = id.lastIndexOf(':');
  const host = colon > 0 ? id.slice(0, colon) : id;
  if (!isIPv4(host)) throw new TypeError(`not an endpoint address (ip:port): ${id}`);
  return { address: addressKey(host), port: Number(id.slice(colon + 1)) };
}

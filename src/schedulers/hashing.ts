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
import { isIPv4, isIPv6 } from 'node:net';
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
  // v0..v3 = the "somepseudorandomlygeneratedbytes" constants XOR the key, as hi/lo halves.
  let v0h = 0x736f6d65 ^ key.k0hi;
  let v0l = 0x70736575 ^ key.k0lo;
  let v1h = 0x646f7261 ^ key.k1hi;
  let v1l = 0x6e646f6d ^ key.k1lo;
  let v2h = 0x6c796765 ^ key.k0hi;
  let v2l = 0x6e657261 ^ key.k0lo;
  // The last (only) block b: the message length (4) in the top byte, the 4 message bytes below.
  let v3h = 0x74656462 ^ key.k1hi ^ 0x04000000;
  let v3l = 0x79746573 ^ key.k1lo ^ word;
  const message = word | 0;
  const total = rounds.compression + rounds.finalization;
  // 64-bit additions on halves: the carry out of the low half is the top bit of
  // (a & b) | ((a | b) & ~sum), which keeps every value a 32-bit integer.
  let lo: number;
  let t: number;
  for (let round = 0; round < total; round++) {
    if (round === rounds.compression) {
      v0h ^= 0x04000000;
      v0l ^= message;
      v2l ^= 0xff;
    }
    // v0 += v1; v1 = rotl(v1, 13) ^ v0; v0 = rotl(v0, 32)
    lo = (v0l + v1l) | 0;
    v0h = (v0h + v1h + (((v0l & v1l) | ((v0l | v1l) & ~lo)) >>> 31)) | 0;
    v0l = lo;
    t = (v1h << 13) | (v1l >>> 19);
    v1l = ((v1l << 13) | (v1h >>> 19)) ^ v0l;
    v1h = t ^ v0h;
    t = v0h;
    v0h = v0l;
    v0l = t;
    // v2 += v3; v3 = rotl(v3, 16) ^ v2
    lo = (v2l + v3l) | 0;
    v2h = (v2h + v3h + (((v2l & v3l) | ((v2l | v3l) & ~lo)) >>> 31)) | 0;
    v2l = lo;
    t = (v3h << 16) | (v3l >>> 16);
    v3l = ((v3l << 16) | (v3h >>> 16)) ^ v2l;
    v3h = t ^ v2h;
    // v0 += v3; v3 = rotl(v3, 21) ^ v0
    lo = (v0l + v3l) | 0;
    v0h = (v0h + v3h + (((v0l & v3l) | ((v0l | v3l) & ~lo)) >>> 31)) | 0;
    v0l = lo;
    t = (v3h << 21) | (v3l >>> 11);
    v3l = ((v3l << 21) | (v3h >>> 11)) ^ v0l;
    v3h = t ^ v0h;
    // v2 += v1; v1 = rotl(v1, 17) ^ v2; v2 = rotl(v2, 32)
    lo = (v2l + v1l) | 0;
    v2h = (v2h + v1h + (((v2l & v1l) | ((v2l | v1l) & ~lo)) >>> 31)) | 0;
    v2l = lo;
    t = (v1h << 17) | (v1l >>> 15);
    v1l = ((v1l << 17) | (v1h >>> 15)) ^ v2l;
    v1h = t ^ v2h;
    t = v2h;
    v2h = v2l;
    v2l = t;
  }
  // (v0 ^ v1) ^ (v2 ^ v3), truncated to its low 32 bits.
  return (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
}

/** An address as IPVS hashes it: IPv4 as a host-order 32-bit number, IPv6 folded by XOR of its words. */
export function addressKey(ip: string): number {
  const fast = dottedQuad(ip);
  return fast >= 0 ? fast : ipv4ToNumber(ip);
}

/** A plain dotted-quad IPv4 address as a number, or -1 for anything else (then ipv4ToNumber decides). */
function dottedQuad(ip: string): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const code = ip.charCodeAt(i);
    if (code === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
    } else if (code >= 48 && code <= 57) {
      if (digits > 0 && octet === 0) return -1;
      octet = octet * 10 + (code - 48);
      if (++digits > 3 || octet > 255) return -1;
    } else {
      return -1;
    }
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1;
}

/** Splits an endpoint id `ip:port` or `[ipv6]:port` into its address key and port. */
export function endpointHashInput(id: string): { address: number; port: number } {
  const colon = id.lastIndexOf(':');
  const bracketed = id.startsWith('[') && id[colon - 1] === ']';
  const host = bracketed ? id.slice(1, colon - 1) : id.slice(0, colon);
  const port = Number(id.slice(colon + 1));
  if (colon < 0 || !(bracketed ? isIPv6(host) : isIPv4(host)) || !Number.isInteger(port)) {
    throw new TypeError(`not an endpoint address (ip:port or [ip]:port): ${id}`);
  }
  return { address: addressKey(host), port };
}

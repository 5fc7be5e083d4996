/**
 * The hash functions IPVS's hashing schedulers use, bit for bit, so that a table or a pick here
 * is the one the kernel would make for the same addresses.
 *
 * - `hash32`: the kernel's hash_32() (include/linux/hash.h): multiply by GOLDEN_RATIO_32 and keep
 *   the top bits. sh, dh, lblc and lblcr hash addresses with it.
 * - `sipHasher`: SipHash-c-d over one 32-bit word for one key, modulo a table size. ip_vs_mh
 *   uses hsiphash(), which on 64-bit kernels is SipHash-1-3 keyed by two unsigned longs
 *   (computed in WebAssembly: siphash-wasm.ts).
 */
import { isIPv4, isIPv6 } from 'node:net';
import { ipv4ToNumber } from '../model/ip.js';
import { compileSipHash, type SipHashModulo } from './siphash-wasm.js';

const GOLDEN_RATIO_32 = 0x61c88647;

/** hash_32(value, bits): the top `bits` bits of value × GOLDEN_RATIO_32 (mod 2³²). */
export function hash32(value: number, bits: number): number {
  return Math.imul(value, GOLDEN_RATIO_32) >>> (32 - bits);
}

/** A 128-bit SipHash key as its two 64-bit words. */
export interface SipKey {
  readonly k0: bigint;
  readonly k1: bigint;
}

export interface SipRounds {
  readonly compression: number;
  readonly finalization: number;
}

/** hsiphash() on a 64-bit kernel. */
export const HSIPHASH_ROUNDS: SipRounds = { compression: 1, finalization: 3 };

/**
 * SipHash for one key: a function of the 4-byte little-endian message `word` and a modulus that
 * returns the hash's low 32 bits (what hsiphash() returns) modulo it. `rounds` defaults to the
 * kernel's 1-3.
 */
export function sipHasher(key: SipKey, rounds: SipRounds = HSIPHASH_ROUNDS): SipHashModulo {
  return compileSipHash(key.k0, key.k1, rounds.compression, rounds.finalization);
}

/**
 * An address as IPVS hashes it: IPv4 as a host-order 32-bit number, IPv6 folded by XOR of its
 * words. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack socket reports for an
 * IPv4 client) is the IPv4 connection the kernel would see.
 */
export function addressKey(ip: string): number {
  const fast = dottedQuad(ip);
  if (fast >= 0) return fast;
  const mapped = ip.startsWith('::ffff:') ? dottedQuad(ip.slice(7)) : -1;
  return mapped >= 0 ? mapped : ipv4ToNumber(ip);
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

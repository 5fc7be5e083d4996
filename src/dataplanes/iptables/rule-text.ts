import { isIP } from 'node:net';
import type { IPFamily, Protocol } from '../../model/service.js';

/**
 * Small pieces of iptables-restore syntax, built so that nothing taken from a manifest can break
 * a rule or add one: comments are reduced to a safe alphabet and bounded, addresses and CIDRs are
 * checked before they are written, ports must be integers in range.
 */

/** xt_comment keeps at most 255 bytes. */
const maxCommentLength = 255;

/**
 * A `--comment` argument: characters outside a conservative set (quotes, backslashes, newlines,
 * anything non-ASCII) become `_`; quoted, as kube-proxy writes it, only when it holds a space.
 */
export function commentArg(text: string): string {
  const safe = text.replace(/[^A-Za-z0-9 ./:_>\-[\]();,=]/g, '_').slice(0, maxCommentLength);
  return safe.includes(' ') ? `"${safe}"` : safe;
}

/** `-m comment --comment …` */
export function comment(text: string): string {
  return `-m comment --comment ${commentArg(text)}`;
}

/** `-m tcp -p tcp`, the order kube-proxy writes. */
export function protocolMatch(protocol: Protocol): string {
  const name = protocol.toLowerCase();
  return `-m ${name} -p ${name}`;
}

export function familyOf(ip: string): IPFamily | undefined {
  const version = isIP(ip);
  return version === 4 ? 'IPv4' : version === 6 ? 'IPv6' : undefined;
}

/** Whether `ip` is a plain address of `family` (no prefix, no zone, nothing else). */
export function isAddressOf(ip: string, family: IPFamily): boolean {
  return familyOf(ip) === family;
}

/** Whether `cidr` is `address/prefix` (or a bare address) of `family`, with a prefix in range. */
export function isCidrOf(cidr: string, family: IPFamily): boolean {
  const [address = '', prefix, extra] = cidr.split('/');
  if (extra !== undefined || !isAddressOf(address, family)) return false;
  if (prefix === undefined) return true;
  const bits = Number(prefix);
  return /^\d+$/.test(prefix) && bits <= (family === 'IPv4' ? 32 : 128);
}

export function isPort(port: number | undefined): port is number {
  return port !== undefined && Number.isInteger(port) && port >= 1 && port <= 65535;
}

/** An endpoint's `ip:port` as DNAT wants it (IPv6 bracketed). */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** kube-proxy's probability text: Go's `%0.10f`. */
export function probability(value: number): string {
  return value.toFixed(10);
}

/** The fwmark bit `masqueradeBit` as iptables writes it (`0x4000` for bit 14). */
export function markHex(bit: number): string {
  return `0x${(2 ** bit).toString(16)}`;
}

/** One word as iptables-restore reads it back (quoted, with `"` and `\\` escaped, when needed). */
export function quoteWord(word: string): string {
  return /^[^\s"\\]+$/.test(word) ? word : `"${word.replace(/(["\\])/g, '\\$1')}"`;
}

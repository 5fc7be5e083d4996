import { isIPv4, isIPv6 } from 'node:net';

/**
 * An IP address as a 32-bit number. IPv6 addresses are folded to 32 bits by XOR of their four
 * words, as IPVS's hashing schedulers do.
 */
export function ipv4ToNumber(ip: string): number {
  if (isIPv4(ip)) {
    const [a = 0, b = 0, c = 0, d = 0] = ip.split('.').map(Number);
    return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  }
  if (isIPv6(ip)) return foldIPv6(ip);
  throw new TypeError(`not an IP address: ${ip}`);
}

function foldIPv6(ip: string): number {
  const words = expandIPv6(ip);
  let folded = 0;
  for (let i = 0; i < 8; i += 2) folded ^= (((words[i] ?? 0) << 16) | (words[i + 1] ?? 0)) >>> 0;
  return folded >>> 0;
}

/** The eight 16-bit groups of an IPv6 address, `::` expanded (IPv4-mapped tails included). */
export function expandIPv6(ip: string): number[] {
  let text = ip;
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4Tail?.[1]) {
    const n = ipv4ToNumber(v4Tail[1]);
    text = `${text.slice(0, -v4Tail[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].map((group) => Number.parseInt(group, 16));
}

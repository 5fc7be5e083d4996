import { createHash } from 'node:crypto';
import { isIPv4, isIPv6 } from 'node:net';
import type { IPFamily, Protocol } from '../../model/service.js';

/** The spelling of one address family in nft text: `ip`/`ip6`, address types, loopback. */
export interface FamilyTerms {
  readonly family: IPFamily;
  /** Table family and address-expression keyword (`ip saddr`, `ip6 saddr`). */
  readonly keyword: 'ip' | 'ip6';
  readonly addressType: 'ipv4_addr' | 'ipv6_addr';
  readonly loopback: string;
  isAddress(text: string): boolean;
  /** `10.1.0.1:80` or `[fd00::1]:80`, as a `dnat to` target. */
  hostPort(ip: string, port: number): string;
}

export function familyTerms(family: IPFamily): FamilyTerms {
  if (family === 'IPv4') {
    return {
      family,
      keyword: 'ip',
      addressType: 'ipv4_addr',
      loopback: '127.0.0.0/8',
      isAddress: (text) => isIPv4(text),
      hostPort: (ip, port) => `${ip}:${port}`,
    };
  }
  return {
    family,
    keyword: 'ip6',
    addressType: 'ipv6_addr',
    loopback: '::1',
    isAddress: (text) => isIPv6(text),
    hostPort: (ip, port) => `[${ip}]:${port}`,
  };
}

/** The name of kproxy's own table in each family; nothing else is ever touched. */
export const KPROXY_TABLE = 'kproxy';

/**
 * A short, stable, injection-proof name part for a service port: 16 hex digits of the sha256 of
 * its id and protocol, the same idea as kube-proxy's chain-name hash. The readable id goes in a
 * comment instead.
 */
export function servicePortKey(id: string, protocol: Protocol): string {
  return createHash('sha256').update(`${id}/${protocol.toLowerCase()}`).digest('hex').slice(0, 16);
}

/** 8 hex digits naming an endpoint inside a Service (affinity sets keep their name while others change). */
export function endpointKey(ip: string, port: number): string {
  return createHash('sha256').update(`${ip}/${port}`).digest('hex').slice(0, 8);
}

/**
 * A comment nft accepts whatever a manifest held: only name characters survive (quotes, newlines,
 * braces and semicolons could end the string or the statement), at most 120 bytes.
 */
export function safeComment(text: string): string {
  return `"${text.replace(/[^A-Za-z0-9_./:@ -]/g, '_').slice(0, 120)}"`;
}

export function protocolName(protocol: Protocol): 'tcp' | 'udp' | 'sctp' {
  return protocol.toLowerCase() as 'tcp' | 'udp' | 'sctp';
}

/** The masquerade bit as nft writes a mark constant. */
export function markHex(bit: number): string {
  return `0x${((1 << bit) >>> 0).toString(16).padStart(8, '0')}`;
}

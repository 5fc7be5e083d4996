import { isIPv4, isIPv6 } from 'node:net';
import { KproxyError } from '../../errors.js';
import { expandIPv6 } from '../../model/ip.js';

/** An address as a big integer plus its width, so IPv4 and IPv6 compare the same way. */
interface ParsedAddress {
  readonly bits: 32 | 128;
  readonly value: bigint;
}

function parseAddress(ip: string): ParsedAddress | undefined {
  // A dual-stack socket reports IPv4 clients as ::ffff:a.b.c.d.
  const plain = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  if (isIPv4(plain)) {
    const value = plain.split('.').reduce((sum, part) => (sum << 8n) | BigInt(Number(part)), 0n);
    return { bits: 32, value };
  }
  if (isIPv6(plain)) {
    const value = expandIPv6(plain).reduce((sum, group) => (sum << 16n) | BigInt(group), 0n);
    return { bits: 128, value };
  }
  return undefined;
}

interface Cidr {
  readonly bits: 32 | 128;
  readonly network: bigint;
  readonly mask: bigint;
}

function parseCidr(text: string, where: string): Cidr {
  const [ip = '', prefixText] = text.trim().split('/');
  const address = parseAddress(ip);
  const prefix = prefixText === undefined ? address?.bits : Number(prefixText);
  if (!address || prefix === undefined || !Number.isInteger(prefix) || prefix < 0 || prefix > address.bits) {
    throw new KproxyError(
      where.startsWith('service ') ? 'KPROXY_E_MANIFEST' : 'KPROXY_E_CONFIG',
      `${where}: "${text}" is not a CIDR`,
      {
        hint: 'write ranges like 203.0.113.0/24 or 2001:db8::/32',
      },
    );
  }
  const width = BigInt(address.bits);
  const mask = ((1n << width) - 1n) ^ ((1n << (width - BigInt(prefix))) - 1n);
  return { bits: address.bits, network: address.value & mask, mask };
}

/**
 * A list of CIDRs (`loadBalancerSourceRanges`, `nodePortAddresses`) as a predicate on addresses;
 * `where` names the field for the error a bad entry raises. An empty list lets everyone in, as
 * kube-proxy does for source ranges.
 */
export function cidrFilter(ranges: readonly string[], where: string): (ip: string) => boolean {
  if (ranges.length === 0) return () => true;
  const cidrs = ranges.map((range) => parseCidr(range, where));
  return (ip) => {
    const address = parseAddress(ip);
    if (!address) return false;
    return cidrs.some((cidr) => cidr.bits === address.bits && (address.value & cidr.mask) === cidr.network);
  };
}

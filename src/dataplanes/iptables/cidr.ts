import { isIPv4, isIPv6 } from 'node:net';
import { expandIPv6 } from '../../model/ip.js';

/** An address as a number with its width in bits, for prefix matching. */
function addressBits(ip: string): { value: bigint; width: number } | undefined {
  if (isIPv4(ip)) {
    const value = ip.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
    return { value, width: 32 };
  }
  if (isIPv6(ip)) {
    const value = expandIPv6(ip).reduce((acc, group) => (acc << 16n) | BigInt(group), 0n);
    return { value, width: 128 };
  }
  return undefined;
}

/** Whether `ip` falls in `cidr` (`a.b.c.d/n`, `x::/n` or a bare address); families never match each other. */
export function cidrContains(cidr: string, ip: string): boolean {
  const [network = '', prefixText] = cidr.split('/');
  const net = addressBits(network);
  const address = addressBits(ip);
  if (!net || !address || net.width !== address.width) return false;
  const prefix = prefixText === undefined ? net.width : Number(prefixText);
  const shift = BigInt(net.width - prefix);
  return net.value >> shift === address.value >> shift;
}

import { isIP } from 'node:net';

/** 4 for an IPv4 address, 6 for IPv6, 0 for anything else (no zone, no brackets, no leading zeros). */
export function ipFamily(text: string): 0 | 4 | 6 {
  if (text.includes('%')) return 0;
  return isIP(text) as 0 | 4 | 6;
}

/** The IP family of a CIDR such as 10.0.0.0/16 or fd00::/64, or 0 when it is not one. */
export function cidrFamily(text: string): 0 | 4 | 6 {
  const slash = text.indexOf('/');
  if (slash < 0) return 0;
  const family = ipFamily(text.slice(0, slash));
  const prefix = text.slice(slash + 1);
  if (family === 0 || !/^(0|[1-9]\d{0,2})$/.test(prefix)) return 0;
  return Number(prefix) <= (family === 4 ? 32 : 128) ? family : 0;
}

export interface HostPort {
  readonly host: string;
  readonly port: string;
}

/** Go's net.SplitHostPort: `1.2.3.4:80`, `[::1]:80`, `host:80`; undefined when there is no port. */
export function splitHostPort(text: string): HostPort | undefined {
  if (text.startsWith('[')) {
    const match = /^\[([^[\]]*)\]:([^:[\]]*)$/.exec(text);
    return match ? { host: match[1] ?? '', port: match[2] ?? '' } : undefined;
  }
  const colon = text.lastIndexOf(':');
  if (colon < 0 || text.indexOf(':') !== colon) return undefined;
  return { host: text.slice(0, colon), port: text.slice(colon + 1) };
}

/** kube-proxy's AppendPortIfNeeded: a bare IP gets the default port (IPv6 in brackets). */
export function appendPortIfNeeded(address: string, port: number): string {
  const family = ipFamily(address);
  if (family === 4) return `${address}:${port}`;
  if (family === 6) return `[${address}]:${port}`;
  return address;
}

/** Go's port rule for bind addresses: a decimal number 1–65535. */
export function isValidPort(text: string): boolean {
  return /^\d{1,5}$/.test(text) && Number(text) >= 1 && Number(text) <= 65535;
}

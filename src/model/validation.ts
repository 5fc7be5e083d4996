/**
 * Kubernetes' own validation rules for the strings that can reach a rule, a rule comment or a
 * shell: object names, namespaces, port names, label values, IPs and CIDRs. Each check returns
 * the reason a value is wrong (worded like the API server's), or undefined when it is fine.
 */
import { isIP, isIPv4, isIPv6 } from 'node:net';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const IANA_SVC_NAME = /^[-a-z0-9]+$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

export type Check = (value: string) => string | undefined;

export const isDns1123Label: Check = (value) => {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!DNS1123_LABEL.test(value)) {
    return "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
  }
  return undefined;
};

/** Service names are DNS-1035 labels: they must start with a letter. */
export const isDns1035Label: Check = (value) => {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!DNS1035_LABEL.test(value)) {
    return "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
  }
  return undefined;
};

export const isDns1123Subdomain: Check = (value) => {
  if (value.length > 253) return 'must be no more than 253 characters';
  if (value === '' || !value.split('.').every((label) => DNS1123_LABEL.test(label))) {
    return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
};

/** IANA_SVC_NAME (RFC 6335): a named container port, as a Service's string targetPort names it. */
export const isIanaServiceName: Check = (value) => {
  if (value.length > 15) return 'must be no more than 15 characters';
  if (!IANA_SVC_NAME.test(value))
    return 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)';
  if (value.includes('--')) return 'must not contain consecutive hyphens';
  if (!/[a-z]/.test(value)) return 'must contain at least one letter (a-z)';
  if (value.startsWith('-') || value.endsWith('-')) return 'must not begin or end with a hyphen';
  return undefined;
};

export const isLabelValue: Check = (value) => {
  if (value.length > 63) return 'must be no more than 63 characters';
  if (!LABEL_VALUE.test(value)) {
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  }
  return undefined;
};

export const isIPAddress: Check = (value) =>
  isIP(value) === 0 || value.includes('%')
    ? 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'
    : undefined;

export const isIPv4Address: Check = (value) => (isIPv4(value) ? undefined : 'must be a valid IPv4 address');

export const isIPv6Address: Check = (value) =>
  isIPv6(value) && !value.includes('%') ? undefined : 'must be a valid IPv6 address';

export const isCIDR: Check = (value) => {
  const [address = '', prefix, extra] = value.split('/');
  const family = isIP(address);
  const bits = Number(prefix);
  const max = family === 4 ? 32 : 128;
  if (family === 0 || extra !== undefined || !/^\d{1,3}$/.test(prefix ?? '') || bits > max) {
    return 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';
  }
  return undefined;
};

export function isPortNumber(value: number): string | undefined {
  return Number.isInteger(value) && value >= 1 && value <= 65535
    ? undefined
    : 'must be between 1 and 65535, inclusive';
}

/** The IPVS scheduler annotation: a short lowercase name; whether it is known is the data plane's question. */
export const isSchedulerName: Check = (value) =>
  /^[a-z]{1,16}$/.test(value)
    ? undefined
    : 'must be a scheduler name such as rr, lc or sh (lowercase letters)';

/** The family of an address already known to be valid (only IPv6 has colons). */
export function ipFamilyOf(ip: string): 'IPv4' | 'IPv6' {
  return ip.includes(':') ? 'IPv6' : 'IPv4';
}

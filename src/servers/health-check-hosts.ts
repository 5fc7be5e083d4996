import { BlockList, isIP } from 'node:net';
import { type NetworkInterfaceInfo, networkInterfaces } from 'node:os';

export interface HealthCheckHostsOptions {
  /** KubeProxyConfiguration `nodePortAddresses`: CIDRs and/or `primary`; empty means every address. */
  readonly nodePortAddresses: readonly string[];
  /** The node's primary IPs (from its Node object), for `primary`. */
  readonly primaryIPs?: readonly string[];
  /** The host's interfaces; injectable for tests. */
  readonly interfaces?: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/**
 * Where the health-check node ports listen, kube-proxy's rule: on every address when
 * `nodePortAddresses` is empty, else on each local address inside one of its CIDRs (and the
 * primary IPs for `primary`). `['']` means every address. When nothing matches, every address
 * too, as kube-proxy falls back when it cannot find the node IPs: a health check that answers
 * on too many addresses is better than none.
 */
export function healthCheckHosts(options: HealthCheckHostsOptions): string[] {
  if (options.nodePortAddresses.length === 0) return [''];
  const ranges = new BlockList();
  for (const entry of options.nodePortAddresses) {
    const [address = '', prefix] = entry.split('/');
    const family = isIP(address);
    if (family !== 0 && prefix !== undefined)
      ranges.addSubnet(address, Number(prefix), family === 6 ? 'ipv6' : 'ipv4');
  }
  const hosts = new Set<string>();
  if (options.nodePortAddresses.includes('primary')) for (const ip of options.primaryIPs ?? []) hosts.add(ip);
  for (const addresses of Object.values(options.interfaces ?? networkInterfaces())) {
    for (const { address, family } of addresses ?? []) {
      if (ranges.check(address, family === 'IPv6' ? 'ipv6' : 'ipv4')) hosts.add(address);
    }
  }
  return hosts.size > 0 ? [...hosts] : [''];
}

import { networkInterfaces } from 'node:os';
import type { ProxyConfig } from '../config/load-config.js';
import type { IPFamily } from '../model/service.js';
import type { RenderOptions } from './rule-renderer.js';
import { SERVICE_INTERFACE } from './service-address-interface.js';

/**
 * This host's own addresses of one family, loopback and link-local left out, and so are the
 * Service addresses ipvs and userspace modes put on kube-ipvs0 (as kube-proxy leaves them out):
 * after a restart they would otherwise count as node addresses and get node ports.
 */
export function hostAddresses(
  family: IPFamily,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): string[] {
  return Object.entries(interfaces)
    .filter(([name]) => name !== SERVICE_INTERFACE)
    .flatMap(([, addresses]) => addresses ?? [])
    .filter(
      (address) => !address.internal && address.family === family && !address.address.startsWith('fe80:'),
    )
    .map((address) => address.address);
}

export interface RenderOptionsRequest {
  readonly config: ProxyConfig;
  readonly family: IPFamily;
  /** The node's addresses of this family; this host's by default. */
  readonly nodeIPs?: readonly string[];
}

/**
 * The configuration fields that change kernel rules, for one IP family. nftables mode reads its own
 * section for masquerading, the other modes the iptables section (as kube-proxy's ipvs mode does).
 */
export function renderOptionsFor({ config, family, nodeIPs }: RenderOptionsRequest): RenderOptions {
  const isFamily = (address: string) => address.includes(':') === (family === 'IPv6');
  const masquerade = config.mode === 'nftables' ? config.nftables : config.iptables;
  return {
    ipFamily: family,
    nodeIPs: nodeIPs ?? hostAddresses(family),
    clusterCIDRs: config.clusterCIDR
      .split(',')
      .map((cidr) => cidr.trim())
      .filter((cidr) => cidr !== '' && isFamily(cidr)),
    masqueradeAll: masquerade.masqueradeAll,
    masqueradeBit: masquerade.masqueradeBit,
    nodePortAddresses: config.nodePortAddresses.filter(
      (address) => address === 'primary' || isFamily(address),
    ),
    localhostNodePorts: config.iptables.localhostNodePorts,
    ipvsScheduler: config.ipvs.scheduler,
  };
}

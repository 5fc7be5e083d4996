import { KproxyError } from '../errors.js';
import { cleanupIptables } from './iptables/cleanup.js';
import { removeProxyVirtualServers } from './ipvs/ipvs-cleanup.js';
import type { IpvsadmRunner } from './ipvs/ipvsadm-runner.js';
import { runCommand } from './netns.js';
import { SERVICE_INTERFACE } from './service-address-interface.js';

/**
 * nftables tables kproxy's and kube-proxy's nftables modes create (family, name). Only these are
 * deleted; every other table stays.
 */
export const proxyNftTables: readonly (readonly [string, string])[] = [
  ['ip', 'kube-proxy'],
  ['ip6', 'kube-proxy'],
  ['ip', 'kproxy'],
  ['ip6', 'kproxy'],
  ['inet', 'kproxy'],
];

export interface CleanupReport {
  readonly iptablesChains: number;
  readonly nftTables: string[];
  readonly links: string[];
  readonly ipsets: string[];
  /** IPVS virtual servers of ipvs mode (on a kube-ipvs0 address or a listed node port). */
  readonly virtualServers: string[];
}

/** Removes everything kube-proxy or kproxy created in a network namespace, and nothing else. */
export async function cleanupProxyState(
  netns?: string,
  options: { readonly ipvsadm?: IpvsadmRunner } = {},
): Promise<CleanupReport> {
  // First: kube-ipvs0 and the node-port sets are how ipvs mode's virtual servers are recognised.
  const virtualServers = await removeProxyVirtualServers({ netns, runner: options.ipvsadm });
  let iptablesChains = 0;
  for (const family of ['IPv4', 'IPv6'] as const) {
    try {
      iptablesChains += await cleanupIptables({ family, netns });
    } catch (error) {
      // A host without ip6tables has nothing of ours to remove there.
      if (family === 'IPv4' || !(error instanceof KproxyError) || error.code !== 'KPROXY_E_KERNEL_TOOL')
        throw error;
    }
  }
  const nftTables: string[] = [];
  const listed = await runCommand(['nft', 'list', 'tables'], { netns });
  for (const [family, name] of proxyNftTables) {
    if (!listed.stdout.split('\n').includes(`table ${family} ${name}`)) continue;
    const deleted = await runCommand(['nft', 'delete', 'table', family, name], { netns });
    if (deleted.code === 0) nftTables.push(`${family} ${name}`);
  }
  const links: string[] = [];
  if ((await runCommand(['ip', 'link', 'show', SERVICE_INTERFACE], { netns })).code === 0) {
    if ((await runCommand(['ip', 'link', 'delete', SERVICE_INTERFACE], { netns })).code === 0)
      links.push(SERVICE_INTERFACE);
  }
  const ipsets: string[] = [];
  const sets = await runCommand(['ipset', 'list', '-n'], { netns });
  for (const set of sets.stdout.split('\n').filter((name) => name.startsWith('KUBE-'))) {
    if ((await runCommand(['ipset', 'destroy', set], { netns })).code === 0) ipsets.push(set);
  }
  return { iptablesChains, nftTables, links, ipsets, virtualServers };
}

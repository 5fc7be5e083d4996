/**
 * `kproxy cleanup` for the IPVS table: removes the virtual servers kube-proxy's or kproxy's ipvs
 * mode made, and nothing else. kube-proxy's own cleanup clears the whole table; here only virtual
 * servers on a kube-ipvs0 address (cluster, external, LB IPs), or on one of the node's addresses at
 * a node port the `KUBE-NODE-PORT-…` sets list, are removed, so another program's virtual servers
 * stay. Runs before kube-ipvs0 and the sets are removed, since they are how ours are recognised.
 */
import { KproxyError } from '../../errors.js';
import type { IPFamily, Protocol } from '../../model/service.js';
import { runCommand } from '../netns.js';
import { SERVICE_INTERFACE } from '../service-address-interface.js';
import { type IpvsSetKey, ipsetName } from './ipvs-sets.js';
import { type IpvsTable, parseIpvsadmSave, virtualServerAddress, virtualServerKey } from './ipvs-table.js';
import { type IpvsadmRunner, ipvsadmRunner } from './ipvsadm-runner.js';

/** The node-port sets, with the protocol of the virtual servers their ports are for. */
const nodePortSets: readonly (readonly [IpvsSetKey, Protocol])[] = [
  ['nodePortTCP', 'TCP'],
  ['nodePortLocalTCP', 'TCP'],
  ['nodePortUDP', 'UDP'],
  ['nodePortLocalUDP', 'UDP'],
  ['nodePortSCTP', 'SCTP'],
  ['nodePortLocalSCTP', 'SCTP'],
];

const families: readonly IPFamily[] = ['IPv4', 'IPv6'];

/** The node's addresses by family. */
export type NodeAddresses = Readonly<Record<IPFamily, readonly string[]>>;

/**
 * Keys of the node-port virtual servers the node-port sets list (`-t 192.168.50.1:30080`), given
 * each set's members by the name ipset knows it by. A bitmap:port member is a port, served on
 * every node address of the set's family; an SCTP hash member names its address (`ip,sctp:port`).
 */
export function nodePortVirtualServerKeys(
  members: ReadonlyMap<string, readonly string[]>,
  nodeAddresses: NodeAddresses,
): Set<string> {
  const keys = new Set<string>();
  for (const family of families) {
    for (const [set, protocol] of nodePortSets) {
      for (const member of members.get(ipsetName(set, family)) ?? []) {
        const port = Number(member.slice(member.lastIndexOf(':') + 1));
        const ips = member.includes(',') ? [member.slice(0, member.indexOf(','))] : nodeAddresses[family];
        for (const ip of ips) keys.add(virtualServerKey(protocol, ip, port));
      }
    }
  }
  return keys;
}

/** Keys of the virtual servers on a bound address, or among the node-port ones. */
export function proxyVirtualServerKeys(
  table: IpvsTable,
  bound: ReadonlySet<string>,
  nodePortKeys: ReadonlySet<string>,
): string[] {
  return [...table.keys()].filter((key) => bound.has(virtualServerAddress(key)) || nodePortKeys.has(key));
}

/** Removes ipvs mode's virtual servers in `netns`; none where there is no IPVS. Returns their keys. */
export async function removeProxyVirtualServers(
  options: { netns?: string; runner?: IpvsadmRunner } = {},
): Promise<string[]> {
  const runner = options.runner ?? ipvsadmRunner(options.netns);
  let table: IpvsTable;
  try {
    table = parseIpvsadmSave(await runner.save());
  } catch (error) {
    if (error instanceof KproxyError) return []; // no IPVS, or no ipvsadm: no virtual server of ours
    throw error;
  }
  if (table.size === 0) return [];
  const nodePortKeys = nodePortVirtualServerKeys(
    await nodePortSetMembers(options.netns),
    await nodeAddresses(options.netns),
  );
  const keys = proxyVirtualServerKeys(table, await boundAddresses(options.netns), nodePortKeys);
  if (keys.length > 0) await runner.restore(`${keys.map((key) => `-D ${key}`).join('\n')}\n`);
  return keys;
}

async function boundAddresses(netns?: string): Promise<Set<string>> {
  const shown = await runCommand(['ip', '-o', 'address', 'show', 'dev', SERVICE_INTERFACE], { netns });
  return new Set([...shown.stdout.matchAll(/\binet6? ([0-9a-f.:]+)\//g)].map((match) => match[1] ?? ''));
}

/**
 * The addresses node ports are served on: the node's own, as the data plane takes them (not
 * loopback, link-local or kube-ipvs0's). Cleanup has no configuration, so this is what an empty
 * `nodePortAddresses` selects, which holds any narrower choice the data plane was given.
 */
async function nodeAddresses(netns?: string): Promise<NodeAddresses> {
  const shown = await runCommand(['ip', '-o', 'address', 'show'], { netns });
  const addresses: Record<IPFamily, string[]> = { IPv4: [], IPv6: [] };
  for (const line of shown.stdout.split('\n')) {
    const match = /^\d+:\s+([^\s@]+)\S*\s+(inet6?)\s+([0-9a-f.:]+)\//.exec(line);
    const [, device, inet, address] = match ?? [];
    if (!device || !address || device === 'lo' || device === SERVICE_INTERFACE) continue;
    if (/\bscope (link|host)\b/.test(line)) continue;
    addresses[inet === 'inet6' ? 'IPv6' : 'IPv4'].push(address);
  }
  return addresses;
}

/** The members of each family's node-port sets that exist, by set name. */
async function nodePortSetMembers(netns?: string): Promise<Map<string, string[]>> {
  const members = new Map<string, string[]>();
  for (const family of families) {
    for (const [set] of nodePortSets) {
      const name = ipsetName(set, family);
      const listed = await runCommand(['ipset', 'list', name], { netns });
      if (listed.code !== 0) continue;
      const text = listed.stdout.slice(listed.stdout.indexOf('Members:') + 'Members:'.length);
      members.set(
        name,
        text
          .split('\n')
          .map((line) => line.trim())
          .filter(Boolean),
      );
    }
  }
  return members;
}

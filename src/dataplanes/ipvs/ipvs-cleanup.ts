/**
 * `kproxy cleanup` for the IPVS table: removes the virtual servers kube-proxy's or kproxy's ipvs
 * mode made, and nothing else. kube-proxy's own cleanup clears the whole table; here only virtual
 * servers on a kube-ipvs0 address (cluster, external, LB IPs) or on a node port the
 * `KUBE-NODE-PORT-…` sets list are removed, so another program's virtual servers stay. Runs before
 * kube-ipvs0 and the sets are removed, since they are how ours are recognised.
 */
import { KproxyError } from '../../errors.js';
import { runCommand } from '../netns.js';
import { SERVICE_INTERFACE } from '../service-address-interface.js';
import { type IpvsTable, parseIpvsadmSave, virtualServerAddress } from './ipvs-table.js';
import { type IpvsadmRunner, ipvsadmRunner } from './ipvsadm-runner.js';

/** The node-port sets by the protocol switch of their virtual servers (both families' names). */
const nodePortSets: readonly (readonly [string, string])[] = [
  ['-t', 'NODE-PORT-TCP'],
  ['-t', 'NODE-PORT-LOCAL-TCP'],
  ['-u', 'NODE-PORT-UDP'],
  ['-u', 'NODE-PORT-LOCAL-UDP'],
  ['--sctp-service', 'NODE-PORT-SCTP-HASH'],
  ['--sctp-service', 'NODE-PORT-LOCAL-SCTP-HASH'],
];

/** Keys of the virtual servers on a bound address, or on a listed node port (`-t :30080`). */
export function proxyVirtualServerKeys(
  table: IpvsTable,
  bound: ReadonlySet<string>,
  nodePorts: ReadonlySet<string>,
): string[] {
  return [...table.keys()].filter((key) => {
    const protocol = key.slice(0, key.indexOf(' '));
    const port = key.slice(key.lastIndexOf(':') + 1);
    return bound.has(virtualServerAddress(key)) || nodePorts.has(`${protocol} :${port}`);
  });
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
  const keys = proxyVirtualServerKeys(
    table,
    await boundAddresses(options.netns),
    await nodePorts(options.netns),
  );
  if (keys.length > 0) await runner.restore(`${keys.map((key) => `-D ${key}`).join('\n')}\n`);
  return keys;
}

async function boundAddresses(netns?: string): Promise<Set<string>> {
  const shown = await runCommand(['ip', '-o', 'address', 'show', 'dev', SERVICE_INTERFACE], { netns });
  return new Set([...shown.stdout.matchAll(/\binet6? ([0-9a-f.:]+)\//g)].map((match) => match[1] ?? ''));
}

async function nodePorts(netns?: string): Promise<Set<string>> {
  const ports = new Set<string>();
  for (const [protocol, base] of nodePortSets) {
    for (const name of [`KUBE-${base}`, `KUBE-6-${base}`]) {
      const listed = await runCommand(['ipset', 'list', name], { netns });
      if (listed.code !== 0) continue;
      const members = listed.stdout.slice(listed.stdout.indexOf('Members:') + 'Members:'.length);
      // bitmap:port members are ports; the SCTP hash sets hold `ip,sctp:port`.
      for (const member of members
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean)) {
        ports.add(`${protocol} :${member.slice(member.lastIndexOf(':') + 1)}`);
      }
    }
  }
  return ports;
}

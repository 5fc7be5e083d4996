/**
 * ipvs mode where the kernel has IPVS, as kube-proxy programs it: virtual servers and real
 * servers for `ipvsadm-restore`, the ipsets its iptables rules match (`ipset restore`), and the
 * Service addresses bound to the `kube-ipvs0` dummy interface. Masquerading forwarding, weight 1,
 * `-p` persistence for ClientIP affinity. This kernel has no IPVS (ipvsadm: "Protocol not
 * available"), so here the text is all there is to check.
 */
import { isIPv6 } from 'node:net';
import type { Endpoint } from '../../model/endpoint.js';
import type { ProxyState } from '../../model/proxy-state.js';
import { effectiveSchedulerFlags } from '../../schedulers/registry.js';
import { familyTerms } from '../nftables/nft-terms.js';
import type { RenderOptions, RuleRenderer } from '../rule-renderer.js';

const protocolFlag = { TCP: '-t', UDP: '-u', SCTP: '--sctp-service' } as const;

interface IpsetLines {
  readonly creates: Map<string, string>;
  readonly adds: string[];
}

export function renderIpvsRestore(state: ProxyState, options: RenderOptions): string {
  const terms = familyTerms(options.ipFamily);
  const v6 = options.ipFamily === 'IPv6';
  const setName = (base: string) => (v6 ? base.replace(/^KUBE-/, 'KUBE-6-') : base);
  const ipvs: string[] = [];
  const ipsets: IpsetLines = { creates: new Map(), adds: [] };
  const addresses = new Set<string>();
  const addToSet = (base: string, type: string, entry: string) => {
    const name = setName(base);
    const family = v6 ? 'inet6' : 'inet';
    const spec =
      type === 'bitmap:port'
        ? 'bitmap:port range 0-65535'
        : `${type} family ${family} hashsize 1024 maxelem 65536`;
    ipsets.creates.set(name, `create ${name} ${spec}`);
    ipsets.adds.push(`add ${name} ${entry}`);
  };
  for (const port of [...state.servicePorts.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) {
    const proto = port.protocol.toLowerCase();
    const ofFamily = (ips: readonly string[]) => ips.filter((ip) => terms.isAddress(ip));
    const local = port.externalTrafficPolicy === 'Local';
    const scheduler = port.scheduler ?? options.ipvsScheduler;
    // `-b`: IP_VS_SVC_F_SCHED1/2 by ipvsadm's names (kube-proxy sets mh-port for mh).
    const flags = effectiveSchedulerFlags(scheduler, port.schedulerFlags);
    const schedulerFlags = flags.length > 0 ? ` -b ${flags.join(',')}` : '';
    const virtualServer = (ip: string, servicePort: number, endpoints: readonly Endpoint[]) => {
      const vip = `${protocolFlag[port.protocol]} ${terms.hostPort(ip, servicePort)}`;
      const persistence =
        port.sessionAffinity.type === 'ClientIP' ? ` -p ${port.sessionAffinity.timeoutSeconds}` : '';
      ipvs.push(`-A ${vip} -s ${scheduler}${schedulerFlags}${persistence}`);
      for (const ep of endpoints.filter((e) => terms.isAddress(e.ip))) {
        ipvs.push(`-a ${vip} -r ${terms.hostPort(ep.ip, ep.port)} -m -w 1`);
      }
    };
    for (const ip of ofFamily(port.clusterIPs)) {
      virtualServer(ip, port.port, port.clusterEndpoints);
      addToSet('KUBE-CLUSTER-IP', 'hash:ip,port', `${ip},${proto}:${port.port}`);
      addresses.add(ip);
    }
    for (const ip of ofFamily(port.externalIPs)) {
      virtualServer(ip, port.port, port.externalEndpoints);
      addToSet(
        local ? 'KUBE-EXTERNAL-IP-LOCAL' : 'KUBE-EXTERNAL-IP',
        'hash:ip,port',
        `${ip},${proto}:${port.port}`,
      );
      addresses.add(ip);
    }
    for (const ip of ofFamily(port.loadBalancerIPs)) {
      virtualServer(ip, port.port, port.externalEndpoints);
      addToSet('KUBE-LOAD-BALANCER', 'hash:ip,port', `${ip},${proto}:${port.port}`);
      if (local) addToSet('KUBE-LOAD-BALANCER-LOCAL', 'hash:ip,port', `${ip},${proto}:${port.port}`);
      const ranges = port.loadBalancerSourceRanges.filter((cidr) => isIPv6(cidr.split('/')[0] ?? '') === v6);
      if (ranges.length > 0) addToSet('KUBE-LOAD-BALANCER-FW', 'hash:ip,port', `${ip},${proto}:${port.port}`);
      for (const cidr of ranges)
        addToSet('KUBE-LOAD-BALANCER-SOURCE-CIDR', 'hash:ip,port,net', `${ip},${proto}:${port.port},${cidr}`);
      addresses.add(ip);
    }
    if (port.nodePort) {
      for (const nodeIP of options.nodeIPs) virtualServer(nodeIP, port.nodePort, port.externalEndpoints);
      const upper = port.protocol;
      if (upper === 'SCTP') {
        for (const nodeIP of options.nodeIPs) {
          addToSet(
            local ? 'KUBE-NODE-PORT-LOCAL-SCTP-HASH' : 'KUBE-NODE-PORT-SCTP-HASH',
            'hash:ip,port',
            `${nodeIP},sctp:${port.nodePort}`,
          );
        }
      } else {
        addToSet(
          local ? `KUBE-NODE-PORT-LOCAL-${upper}` : `KUBE-NODE-PORT-${upper}`,
          'bitmap:port',
          String(port.nodePort),
        );
      }
    }
    for (const ep of port.allReachableEndpoints.filter((e) => terms.isAddress(e.ip))) {
      addToSet('KUBE-LOOP-BACK', 'hash:ip,port,ip', `${ep.ip},${proto}:${ep.port},${ep.ip}`);
    }
  }
  const prefix = v6 ? 128 : 32;
  return [
    '# ipvsadm-restore',
    ...ipvs,
    '# ipset restore',
    ...[...ipsets.creates.values()].sort(),
    ...[...new Set(ipsets.adds)],
    '# ip address add … dev kube-ipvs0',
    ...[...addresses].map((ip) => `${ip}/${prefix}`),
    '',
  ].join('\n');
}

export const ipvsadmRenderer: RuleRenderer = { mode: 'ipvsadm', render: renderIpvsRestore };

/**
 * The ipsets kube-proxy's ipvs mode keeps (pkg/proxy/ipvs/ipset.go): their names, types and the
 * comments its iptables rules carry. Every set is created whether or not it has entries, because
 * the KUBE-IPVS-FILTER rules name them all. IPv6 sets are `KUBE-6-…`, cut to ipset's 31
 * characters, as kube-proxy names them.
 */
import type { IPFamily } from '../../model/service.js';

export type IpsetType = 'hash:ip' | 'hash:ip,port' | 'hash:ip,port,ip' | 'hash:ip,port,net' | 'bitmap:port';

export interface IpsetDefinition {
  /** The IPv4 name; `ipsetName` gives a family's. */
  readonly base: string;
  readonly type: IpsetType;
  readonly comment: string;
}

function set(base: string, type: IpsetType, comment: string): IpsetDefinition {
  return { base, type, comment };
}

export const ipvsSets = {
  loopBack: set(
    'KUBE-LOOP-BACK',
    'hash:ip,port,ip',
    'Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose',
  ),
  clusterIP: set(
    'KUBE-CLUSTER-IP',
    'hash:ip,port',
    'Kubernetes service cluster ip + port for masquerade purpose',
  ),
  externalIP: set(
    'KUBE-EXTERNAL-IP',
    'hash:ip,port',
    'Kubernetes service external ip + port for masquerade and filter purpose',
  ),
  externalIPLocal: set(
    'KUBE-EXTERNAL-IP-LOCAL',
    'hash:ip,port',
    'Kubernetes service external ip + port with externalTrafficPolicy=local',
  ),
  loadBalancer: set('KUBE-LOAD-BALANCER', 'hash:ip,port', 'Kubernetes service lb portal'),
  loadBalancerFW: set(
    'KUBE-LOAD-BALANCER-FW',
    'hash:ip,port',
    'Kubernetes service load balancer ip + port for load balancer with sourceRange',
  ),
  loadBalancerLocal: set(
    'KUBE-LOAD-BALANCER-LOCAL',
    'hash:ip,port',
    'Kubernetes service load balancer ip + port with externalTrafficPolicy=local',
  ),
  loadBalancerSourceIP: set(
    'KUBE-LOAD-BALANCER-SOURCE-IP',
    'hash:ip,port,ip',
    'Kubernetes service load balancer ip + port + source IP for packet filter purpose',
  ),
  loadBalancerSourceCIDR: set(
    'KUBE-LOAD-BALANCER-SOURCE-CIDR',
    'hash:ip,port,net',
    'Kubernetes service load balancer ip + port + source cidr for packet filter purpose',
  ),
  nodePortTCP: set(
    'KUBE-NODE-PORT-TCP',
    'bitmap:port',
    'Kubernetes nodeport TCP port for masquerade purpose',
  ),
  nodePortLocalTCP: set(
    'KUBE-NODE-PORT-LOCAL-TCP',
    'bitmap:port',
    'Kubernetes nodeport TCP port with externalTrafficPolicy=local',
  ),
  nodePortUDP: set(
    'KUBE-NODE-PORT-UDP',
    'bitmap:port',
    'Kubernetes nodeport UDP port for masquerade purpose',
  ),
  nodePortLocalUDP: set(
    'KUBE-NODE-PORT-LOCAL-UDP',
    'bitmap:port',
    'Kubernetes nodeport UDP port with externalTrafficPolicy=local',
  ),
  nodePortSCTP: set(
    'KUBE-NODE-PORT-SCTP-HASH',
    'hash:ip,port',
    "Kubernetes nodeport SCTP port for masquerade purpose with type 'hash ip:port'",
  ),
  nodePortLocalSCTP: set(
    'KUBE-NODE-PORT-LOCAL-SCTP-HASH',
    'hash:ip,port',
    "Kubernetes nodeport SCTP port with externalTrafficPolicy=local with type 'hash ip:port'",
  ),
  healthCheckNodePort: set('KUBE-HEALTH-CHECK-NODE-PORT', 'bitmap:port', 'Kubernetes health check node port'),
  ipvsIPs: set('KUBE-IPVS-IPS', 'hash:ip', 'IPVS service addresses bound to kube-ipvs0'),
} as const;

export type IpvsSetKey = keyof typeof ipvsSets;

export const ipvsSetKeys = Object.keys(ipvsSets) as IpvsSetKey[];

/** ipset keeps names of at most 31 characters. */
const maxNameLength = 31;

/** A set's name in one family: `KUBE-6-…` for IPv6. */
export function ipsetName(key: IpvsSetKey, family: IPFamily): string {
  const base = ipvsSets[key].base;
  return family === 'IPv6' ? base.replace(/^KUBE-/, 'KUBE-6-').slice(0, maxNameLength) : base;
}

/** `ipset create` arguments after the name, as kube-proxy creates its sets. */
export function ipsetCreateSpec(key: IpvsSetKey, family: IPFamily): string {
  const { type } = ipvsSets[key];
  if (type === 'bitmap:port') return 'bitmap:port range 0-65535';
  return `${type} family ${family === 'IPv6' ? 'inet6' : 'inet'} hashsize 1024 maxelem 65536`;
}

/** The entries of every set, keyed by set, each entry with the Service port it is there for. */
export type IpsetContents = ReadonlyMap<IpvsSetKey, ReadonlyMap<string, string | undefined>>;

/**
 * What kube-proxy's ipvs mode programs for one IP family, computed once from the state: the IPVS
 * table, the ipsets' entries, the addresses bound to kube-ipvs0, and the load-balancer addresses
 * the node itself may not reach. `kproxy rules --mode ipvsadm` prints it and the kernel data plane
 * applies it, so the two cannot differ.
 */
import type { Endpoint } from '../../model/endpoint.js';
import type { ProxyState, ServicePortState } from '../../model/proxy-state.js';
import { effectiveSchedulerFlags } from '../../schedulers/registry.js';
import { cidrContains } from '../iptables/cidr.js';
import { isAddressOf, isCidrOf } from '../iptables/rule-text.js';
import type { RenderOptions } from '../rule-renderer.js';
import type { IpvsSetKey } from './ipvs-sets.js';
import { hostPort, type RealServer, type VirtualServer, virtualServerKey } from './ipvs-table.js';

export interface NoNodeAccess {
  readonly ip: string;
  readonly protocol: string;
  readonly port: number;
  readonly owner: string;
}

export interface DesiredIpvs {
  readonly table: Map<string, VirtualServer>;
  /** Entries per set; each entry names the Service port it is there for. */
  readonly sets: Map<IpvsSetKey, Map<string, string>>;
  /** Addresses to bind to kube-ipvs0 (cluster, external and LB IPs that are not the node's own). */
  readonly addresses: Set<string>;
  /** LB addresses with source ranges that leave out the node: the node's own traffic to them is dropped. */
  readonly noNodeAccess: NoNodeAccess[];
}

export function desiredIpvs(state: ProxyState, options: RenderOptions): DesiredIpvs {
  const desired: DesiredIpvs = { table: new Map(), sets: new Map(), addresses: new Set(), noNodeAccess: [] };
  const ports = [...state.servicePorts.values()].sort((a, b) => (a.id < b.id ? -1 : 1));
  for (const port of ports) addServicePort(desired, port, options);
  return desired;
}

function addServicePort(desired: DesiredIpvs, port: ServicePortState, options: RenderOptions): void {
  const family = options.ipFamily;
  const ofFamily = (ips: readonly string[]) => ips.filter((ip) => isAddressOf(ip, family));
  const owner = port.id;
  const proto = port.protocol.toLowerCase();
  const local = port.externalTrafficPolicy === 'Local';
  const add = (key: IpvsSetKey, entry: string) => {
    const entries = desired.sets.get(key) ?? new Map<string, string>();
    if (!entries.has(entry)) entries.set(entry, owner);
    desired.sets.set(key, entries);
  };
  const scheduler = port.scheduler ?? options.ipvsScheduler;
  const flags = [...effectiveSchedulerFlags(scheduler, port.schedulerFlags)].sort();
  const persistence =
    port.sessionAffinity.type === 'ClientIP' ? port.sessionAffinity.timeoutSeconds : undefined;
  const clusterEndpoints = port.clusterEndpoints.filter((e) => isAddressOf(e.ip, family));
  const external = port.externalEndpoints.filter((e) => isAddressOf(e.ip, family));
  // With externalTrafficPolicy Local and no local endpoint, kube-proxy's ipvs mode keeps the
  // cluster's endpoints, so that pods on this node still reach the Service.
  const externalEndpoints = local && external.length === 0 ? clusterEndpoints : external;
  const virtualServer = (ip: string, servicePort: number, endpoints: readonly Endpoint[]) => {
    const key = virtualServerKey(port.protocol, ip, servicePort);
    if (desired.table.has(key)) return;
    const realServers = new Map<string, RealServer>();
    for (const endpoint of endpoints) {
      const address = hostPort(endpoint.ip, endpoint.port);
      realServers.set(address, { address, weight: 1, forward: '-m' });
    }
    desired.table.set(key, { key, scheduler, flags, persistence, realServers, owner });
  };
  const bind = (ip: string) => {
    if (options.nodeIPs.includes(ip)) return;
    desired.addresses.add(ip);
    add('ipvsIPs', ip);
  };
  for (const ip of ofFamily(port.clusterIPs)) {
    virtualServer(ip, port.port, clusterEndpoints);
    add('clusterIP', `${ip},${proto}:${port.port}`);
    bind(ip);
  }
  for (const ip of ofFamily(port.externalIPs)) {
    virtualServer(ip, port.port, externalEndpoints);
    add(local ? 'externalIPLocal' : 'externalIP', `${ip},${proto}:${port.port}`);
    bind(ip);
  }
  for (const ip of ofFamily(port.loadBalancerIPs)) {
    virtualServer(ip, port.port, externalEndpoints);
    const entry = `${ip},${proto}:${port.port}`;
    add('loadBalancer', entry);
    if (local) add('loadBalancerLocal', entry);
    const ranges = port.loadBalancerSourceRanges.filter((cidr) => isCidrOf(cidr, family));
    if (ranges.length > 0) {
      add('loadBalancerFW', entry);
      for (const cidr of ranges) add('loadBalancerSourceCIDR', `${entry},${cidr}`);
      if (options.nodeIPs.some((nodeIP) => ranges.some((cidr) => cidrContains(cidr, nodeIP)))) {
        add('loadBalancerSourceIP', `${entry},${ip}`);
      } else {
        desired.noNodeAccess.push({ ip, protocol: proto, port: port.port, owner });
      }
    }
    bind(ip);
  }
  if (port.nodePort) {
    const nodePortIPs = nodePortAddressesOf(options);
    for (const nodeIP of nodePortIPs) virtualServer(nodeIP, port.nodePort, externalEndpoints);
    if (port.protocol === 'SCTP') {
      for (const nodeIP of nodePortIPs) {
        add(local ? 'nodePortLocalSCTP' : 'nodePortSCTP', `${nodeIP},sctp:${port.nodePort}`);
      }
    } else {
      const tcp = port.protocol === 'TCP';
      add(tcp ? 'nodePortTCP' : 'nodePortUDP', String(port.nodePort));
      if (local) add(tcp ? 'nodePortLocalTCP' : 'nodePortLocalUDP', String(port.nodePort));
    }
  }
  if (port.healthCheckNodePort) add('healthCheckNodePort', String(port.healthCheckNodePort));
  // Hairpin: a local pod reaching itself through the Service is masqueraded.
  for (const endpoint of port.allReachableEndpoints) {
    if (endpoint.isLocal && isAddressOf(endpoint.ip, family)) {
      add('loopBack', `${endpoint.ip},${proto}:${endpoint.port},${endpoint.ip}`);
    }
  }
}

/** The node addresses that get node-port virtual servers: those in `nodePortAddresses`, or all of them. */
function nodePortAddressesOf(options: RenderOptions): readonly string[] {
  const cidrs = options.nodePortAddresses.filter((entry) => entry !== 'primary');
  if (cidrs.length === 0) return options.nodeIPs;
  const primary = options.nodePortAddresses.includes('primary') ? options.nodeIPs.slice(0, 1) : [];
  const matching = options.nodeIPs.filter((ip) => cidrs.some((cidr) => cidrContains(cidr, ip)));
  return [...new Set([...primary, ...matching])];
}

import { networkInterfaces } from 'node:os';
import type { ServicePortState } from '../../model/proxy-state.js';
import { cidrFilter } from './cidr-filter.js';

export type FrontendKind = 'clusterIP' | 'nodePort' | 'externalIP' | 'loadBalancer';

/** One address a service port answers on, before it is mapped to where the proxy listens. */
export interface FrontendSpec {
  readonly kind: FrontendKind;
  readonly ip: string;
  readonly port: number;
  /** Which endpoint list serves it: cluster IPs use clusterEndpoints, the rest externalEndpoints. */
  readonly traffic: 'cluster' | 'external';
}

/** `ip:port`, bracketed for IPv6. */
export function frontendKey(spec: Pick<FrontendSpec, 'ip' | 'port'>): string {
  return spec.ip.includes(':') ? `[${spec.ip}]:${spec.port}` : `${spec.ip}:${spec.port}`;
}

/**
 * Every frontend of a service port, as IPVS mode makes them: each cluster IP, the node port on
 * each node-port address, each external IP and each load-balancer ingress IP.
 */
export function serviceFrontends(
  servicePort: ServicePortState,
  nodePortIPs: readonly string[],
): FrontendSpec[] {
  const { port } = servicePort;
  const specs: FrontendSpec[] = servicePort.clusterIPs.map((ip) => ({
    kind: 'clusterIP',
    ip,
    port,
    traffic: 'cluster',
  }));
  const { nodePort } = servicePort;
  if (nodePort) {
    for (const ip of nodePortIPs) specs.push({ kind: 'nodePort', ip, port: nodePort, traffic: 'external' });
  }
  for (const ip of servicePort.externalIPs) specs.push({ kind: 'externalIP', ip, port, traffic: 'external' });
  for (const ip of servicePort.loadBalancerIPs) {
    specs.push({ kind: 'loadBalancer', ip, port, traffic: 'external' });
  }
  return specs;
}

/**
 * The local addresses node ports listen on: those inside `nodePortAddresses` (CIDRs, or
 * `primary` for the node's own IPs), or every address (0.0.0.0) when the list is empty.
 */
export function resolveNodePortIPs(
  nodePortAddresses: readonly string[],
  nodeIPs: readonly string[],
): string[] {
  if (nodePortAddresses.length === 0) return ['0.0.0.0'];
  const cidrs = nodePortAddresses.filter((entry) => entry !== 'primary');
  const inRange = cidrFilter(cidrs, 'nodePortAddresses');
  const local = Object.values(networkInterfaces())
    .flatMap((addresses) => addresses ?? [])
    .map((address) => address.address)
    .filter((ip) => cidrs.length > 0 && inRange(ip));
  const primary = nodePortAddresses.includes('primary') ? nodeIPs : [];
  return [...new Set([...local, ...primary])];
}

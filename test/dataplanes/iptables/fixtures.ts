import type { RenderOptions } from '../../../src/dataplanes/rule-renderer.js';
import type { Endpoint } from '../../../src/model/endpoint.js';
import { freezeProxyState, type ProxyState, type ServicePortState } from '../../../src/model/proxy-state.js';
import type { ServicePort } from '../../../src/model/service.js';
import { servicePortId } from '../../../src/model/service.js';

export const nodeName = 'node1';
export const nodeIP = '192.168.0.2';

export function endpoint(ip: string, port: number, local = false): Endpoint {
  return {
    ip,
    port,
    ready: true,
    serving: true,
    terminating: false,
    isLocal: local,
    nodeName: local ? nodeName : 'node2',
  };
}

export type PortSpec = Partial<ServicePort> & {
  namespace: string;
  name: string;
  port: number;
  clusterIP: string;
  endpoints?: Endpoint[];
};

/** A ServicePortState as control would compute it: ETP/ITP Local keep only this node's endpoints. */
export function servicePort(spec: PortSpec): ServicePortState {
  const portName = spec.portName ?? `p${spec.port}`;
  const all = spec.endpoints ?? [];
  const local = all.filter((e) => e.isLocal);
  const externalTrafficPolicy = spec.externalTrafficPolicy ?? 'Cluster';
  const internalTrafficPolicy = spec.internalTrafficPolicy ?? 'Cluster';
  return {
    id: servicePortId(spec.namespace, spec.name, portName),
    namespace: spec.namespace,
    name: spec.name,
    portName,
    protocol: spec.protocol ?? 'TCP',
    port: spec.port,
    clusterIPs: [spec.clusterIP],
    nodePort: spec.nodePort,
    externalIPs: spec.externalIPs ?? [],
    loadBalancerIPs: spec.loadBalancerIPs ?? [],
    loadBalancerSourceRanges: spec.loadBalancerSourceRanges ?? [],
    sessionAffinity: spec.sessionAffinity ?? { type: 'None', timeoutSeconds: 10800 },
    externalTrafficPolicy,
    internalTrafficPolicy,
    healthCheckNodePort: spec.healthCheckNodePort,
    clusterEndpoints: internalTrafficPolicy === 'Local' ? local : all,
    externalEndpoints: externalTrafficPolicy === 'Local' ? local : all,
    allReachableEndpoints: all,
    hasAnyEndpoints: all.length > 0,
  };
}

export function stateOf(...ports: PortSpec[]): ProxyState {
  return freezeProxyState(nodeName, ports.map(servicePort));
}

export function renderOptions(overrides: Partial<RenderOptions> = {}): RenderOptions {
  return {
    ipFamily: 'IPv4',
    nodeIPs: [nodeIP],
    clusterCIDRs: ['10.0.0.0/8'],
    masqueradeAll: false,
    masqueradeBit: 14,
    nodePortAddresses: [],
    localhostNodePorts: true,
    ipvsScheduler: 'rr',
    ...overrides,
  };
}

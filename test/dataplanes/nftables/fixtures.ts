import type { RenderOptions } from '../../../src/dataplanes/rule-renderer.js';
import type { Endpoint } from '../../../src/model/endpoint.js';
import { freezeProxyState, type ProxyState, type ServicePortState } from '../../../src/model/proxy-state.js';

export const NODE = 'node-a';

export function endpoint(ip: string, port = 8080, local = true): Endpoint {
  return {
    ip,
    port,
    ready: true,
    serving: true,
    terminating: false,
    nodeName: local ? NODE : 'node-b',
    isLocal: local,
  };
}

export interface ServiceSpec {
  readonly id: string;
  readonly clusterIP: string;
  readonly port?: number;
  readonly protocol?: 'TCP' | 'UDP' | 'SCTP';
  readonly endpoints?: readonly Endpoint[];
  readonly nodePort?: number;
  readonly externalIPs?: readonly string[];
  readonly loadBalancerIPs?: readonly string[];
  readonly sourceRanges?: readonly string[];
  readonly affinitySeconds?: number;
  readonly local?: boolean;
  readonly scheduler?: string;
  /** Endpoints exist but are not usable (e.g. not ready); default: endpoints.length > 0. */
  readonly hasAnyEndpoints?: boolean;
}

export function servicePort(spec: ServiceSpec): ServicePortState {
  const [namespace = 'default', rest = ''] = spec.id.split('/');
  const [name = rest, portName = ''] = rest.split(':');
  const all = spec.endpoints ?? [];
  const external = spec.local ? all.filter((e) => e.isLocal) : all;
  return {
    id: spec.id,
    namespace,
    name,
    portName,
    protocol: spec.protocol ?? 'TCP',
    port: spec.port ?? 80,
    clusterIPs: [spec.clusterIP],
    nodePort: spec.nodePort,
    externalIPs: spec.externalIPs ?? [],
    loadBalancerIPs: spec.loadBalancerIPs ?? [],
    loadBalancerSourceRanges: spec.sourceRanges ?? [],
    sessionAffinity: spec.affinitySeconds
      ? { type: 'ClientIP', timeoutSeconds: spec.affinitySeconds }
      : { type: 'None', timeoutSeconds: 10800 },
    externalTrafficPolicy: spec.local ? 'Local' : 'Cluster',
    internalTrafficPolicy: 'Cluster',
    scheduler: spec.scheduler,
    clusterEndpoints: all,
    externalEndpoints: external,
    allReachableEndpoints: all,
    hasAnyEndpoints: spec.hasAnyEndpoints ?? all.length > 0,
  };
}

export function stateOf(...specs: ServiceSpec[]): ProxyState {
  return freezeProxyState(NODE, specs.map(servicePort));
}

export function renderOptions(overrides: Partial<RenderOptions> = {}): RenderOptions {
  return {
    ipFamily: 'IPv4',
    nodeIPs: ['192.168.50.1'],
    clusterCIDRs: ['10.1.0.0/16'],
    masqueradeAll: false,
    masqueradeBit: 14,
    nodePortAddresses: [],
    localhostNodePorts: false,
    ipvsScheduler: 'rr',
    ...overrides,
  };
}

import type { EndpointSliceObject, ServiceObject } from '../../src/model/k8s-objects.js';

type ServiceSpec = ServiceObject['spec'];

export function service(name: string, spec: Partial<ServiceSpec> = {}, namespace = 'ns'): ServiceObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
      ...spec,
    },
  };
}

export interface SliceEndpoint {
  readonly ip: string;
  readonly ready?: boolean;
  readonly node?: string;
  readonly terminating?: boolean;
}

export function slice(
  serviceName: string,
  endpoints: readonly SliceEndpoint[],
  options: { name?: string; addressType?: 'IPv4' | 'IPv6'; port?: number; namespace?: string } = {},
): EndpointSliceObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: options.name ?? `${serviceName}-1`,
      namespace: options.namespace ?? 'ns',
      labels: { 'kubernetes.io/service-name': serviceName },
    },
    addressType: options.addressType ?? 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: options.port ?? 8080 }],
    endpoints: endpoints.map((e) => ({
      addresses: [e.ip],
      conditions: { ready: e.ready ?? true, serving: e.ready ?? true, terminating: e.terminating ?? false },
      nodeName: e.node ?? 'node-b',
    })),
  };
}

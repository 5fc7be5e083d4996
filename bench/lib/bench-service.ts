import type { EndpointSliceObject, ServiceObject } from '../../src/model/k8s-objects.js';

/** A Service with one port and an EndpointSlice with the given `host:port` endpoints (one shared port). */
export function benchService(backends: readonly string[]): {
  service: ServiceObject;
  endpointSlice: EndpointSliceObject;
} {
  const port = Number(backends[0]?.split(':')[1] ?? 80);
  return {
    service: {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'bench', namespace: 'default' },
      spec: { clusterIP: '10.96.0.10', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    },
    endpointSlice: {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'bench-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'bench' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', protocol: 'TCP', port }],
      endpoints: backends.map((backend, i) => ({
        addresses: [backend.split(':')[0] ?? ''],
        conditions: { ready: true },
        targetRef: { kind: 'Pod', name: `pod-${i}` },
      })),
    },
  };
}

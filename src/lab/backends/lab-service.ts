import { buildProxyState } from '../../control/build-proxy-state.js';
import type { EndpointSliceObject, ServiceObject } from '../../model/k8s-objects.js';
import { SERVICE_NAME_LABEL } from '../../model/k8s-objects.js';
import type { ProxyState } from '../../model/proxy-state.js';

export const LAB_SERVICE_NAME = 'web';

/** A pod of the lab's Service as the EndpointSlice lists it. */
export interface LabEndpoint {
  readonly name: string;
  readonly ip: string;
  readonly port: number;
}

/**
 * The ProxyState of the lab's one Service (`default/web`, port 80, cluster IP `clusterIP`) with
 * `endpoints` ready in its EndpointSlice: what a proxy would compute from the API.
 */
export function labServiceState(clusterIP: string, endpoints: readonly LabEndpoint[]): ProxyState {
  const service: ServiceObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: LAB_SERVICE_NAME, namespace: 'default' },
    spec: { clusterIP, clusterIPs: [clusterIP], ports: [{ name: 'http', protocol: 'TCP', port: 80 }] },
  };
  const slice: EndpointSliceObject = {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${LAB_SERVICE_NAME}-lab`,
      namespace: 'default',
      labels: { [SERVICE_NAME_LABEL]: LAB_SERVICE_NAME },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: endpoints[0]?.port }],
    endpoints: endpoints.map((endpoint) => ({
      addresses: [endpoint.ip],
      conditions: { ready: true, serving: true, terminating: false },
      targetRef: { kind: 'Pod', name: endpoint.name },
    })),
  };
  return buildProxyState({ services: [service], endpointSlices: [slice], nodeName: 'kproxy-lab' });
}

/** web-a, web-b, … web-z, web-a26, …: pod names of equal length, so pages of equal length. */
export function labPodName(index: number): string {
  return `${LAB_SERVICE_NAME}-${String.fromCharCode(97 + (index % 26))}${index >= 26 ? index : ''}`;
}

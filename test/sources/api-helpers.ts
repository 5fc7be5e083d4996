import type { KproxyError } from '../../src/errors.js';
import type { EndpointSliceObject, NodeObject, ServiceObject } from '../../src/model/k8s-objects.js';
import type { SourceHandler } from '../../src/sources/source.js';
import type { KubeObject } from '../fakes/fake-api-server.js';

/** Records what a source delivers: the current objects by key, and every problem. */
export class RecordingHandler implements SourceHandler {
  readonly services = new Map<string, ServiceObject>();
  readonly slices = new Map<string, EndpointSliceObject>();
  readonly nodes = new Map<string, NodeObject>();
  readonly problems: KproxyError[] = [];
  syncedCount = 0;

  service(key: string, service: ServiceObject | undefined): void {
    if (service) this.services.set(key, service);
    else this.services.delete(key);
  }
  endpointSlice(key: string, slice: EndpointSliceObject | undefined): void {
    if (slice) this.slices.set(key, slice);
    else this.slices.delete(key);
  }
  node(name: string, node: NodeObject | undefined): void {
    if (node) this.nodes.set(name, node);
    else this.nodes.delete(name);
  }
  synced(): void {
    this.syncedCount++;
  }
  problem(error: KproxyError): void {
    this.problems.push(error);
  }
}

export function service(name: string, clusterIP: string, port = 80): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: {
      type: 'ClusterIP',
      clusterIP,
      clusterIPs: [clusterIP],
      ports: [{ name: 'http', protocol: 'TCP', port }],
    },
  };
}

export function slice(serviceName: string, ips: readonly string[], suffix = 'abc'): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${serviceName}-${suffix}`,
      namespace: 'default',
      labels: { 'kubernetes.io/service-name': serviceName },
    },
    addressType: 'IPv4',
    ports: [{ name: 'http', protocol: 'TCP', port: 8080 }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
}

/** Polls `condition` every 10 ms for at most `timeoutMs`; fails with `what` when it never holds. */
export async function eventually(what: string, condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

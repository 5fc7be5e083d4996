import { createServer, type Server } from 'node:net';
import type { Endpoint } from '../../src/model/endpoint.js';
import { freezeProxyState, type ProxyState, type ServicePortState } from '../../src/model/proxy-state.js';
import { servicePortId } from '../../src/model/service.js';

/** An endpoint of the test node (`local`) or another node. */
export function endpoint(
  ip: string,
  options: { local?: boolean; ready?: boolean; port?: number } = {},
): Endpoint {
  const ready = options.ready ?? true;
  return {
    ip,
    port: options.port ?? 8080,
    ready,
    serving: ready,
    terminating: !ready,
    nodeName: options.local ? 'node-a' : 'node-b',
    isLocal: options.local ?? false,
  };
}

export interface PortFixture {
  readonly namespace?: string;
  readonly name: string;
  readonly portName?: string;
  readonly port?: number;
  readonly endpoints: readonly Endpoint[];
  readonly externalTrafficPolicy?: 'Cluster' | 'Local';
  readonly internalTrafficPolicy?: 'Cluster' | 'Local';
  readonly healthCheckNodePort?: number;
}

/** A service port as control would hand it over (endpoints already chosen by policy). */
export function servicePort(fixture: PortFixture): ServicePortState {
  const namespace = fixture.namespace ?? 'default';
  const portName = fixture.portName ?? '';
  const etp = fixture.externalTrafficPolicy ?? 'Cluster';
  const itp = fixture.internalTrafficPolicy ?? 'Cluster';
  const ready = fixture.endpoints.filter((e) => e.ready);
  const local = ready.filter((e) => e.isLocal);
  const clusterEndpoints = itp === 'Local' ? local : ready;
  const externalEndpoints = etp === 'Local' ? local : ready;
  return {
    id: servicePortId(namespace, fixture.name, portName),
    namespace,
    name: fixture.name,
    portName,
    protocol: 'TCP',
    port: fixture.port ?? 80,
    clusterIPs: ['10.96.0.10'],
    externalIPs: [],
    loadBalancerIPs: [],
    loadBalancerSourceRanges: [],
    sessionAffinity: { type: 'None', timeoutSeconds: 10800 },
    externalTrafficPolicy: etp,
    internalTrafficPolicy: itp,
    healthCheckNodePort: fixture.healthCheckNodePort,
    clusterEndpoints,
    externalEndpoints,
    allReachableEndpoints: [...new Set([...clusterEndpoints, ...externalEndpoints])],
    hasAnyEndpoints: fixture.endpoints.length > 0,
  };
}

export function stateOf(...ports: PortFixture[]): ProxyState {
  return freezeProxyState('node-a', ports.map(servicePort));
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await closeNet(server);
  return typeof address === 'object' && address ? address.port : 0;
}

export function closeNet(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Runs `body` with everything written to stderr (our klog lines) captured and hidden. */
export async function captureStderr<T>(body: () => Promise<T>): Promise<{ result: T; lines: string[] }> {
  const lines: string[] = [];
  const original = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    return true;
  }) as typeof process.stderr.write;
  try {
    return { result: await body(), lines };
  } finally {
    process.stderr.write = original;
  }
}

/** Polls `condition` every 10 ms until it holds, failing after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

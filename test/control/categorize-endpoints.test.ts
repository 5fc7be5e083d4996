import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { categorizeEndpoints } from '../../src/control/categorize-endpoints.js';
import type { Endpoint } from '../../src/model/endpoint.js';
import type { ServicePort } from '../../src/model/service.js';

const NODE = { nodeName: 'node-a', zone: 'zone-a' };

interface EndpointSpec {
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
  readonly local?: boolean;
  readonly zones?: string[];
  readonly nodes?: string[];
}

function endpoint(ip: string, spec: EndpointSpec = {}): Endpoint {
  const ready = spec.ready ?? true;
  return {
    ip,
    port: 8080,
    ready,
    serving: spec.serving ?? ready,
    terminating: spec.terminating ?? false,
    nodeName: spec.local ? 'node-a' : 'node-b',
    isLocal: spec.local ?? false,
    zoneHints: spec.zones,
    nodeHints: spec.nodes,
  };
}

function port(policies: { itp?: 'Local'; etp?: 'Local'; nodePort?: number } = {}): ServicePort {
  return {
    id: 'ns/svc:http',
    namespace: 'ns',
    name: 'svc',
    portName: 'http',
    protocol: 'TCP',
    port: 80,
    clusterIPs: ['10.96.0.1'],
    nodePort: policies.nodePort,
    externalIPs: [],
    loadBalancerIPs: [],
    loadBalancerSourceRanges: [],
    sessionAffinity: { type: 'None', timeoutSeconds: 0 },
    externalTrafficPolicy: policies.etp ?? 'Cluster',
    internalTrafficPolicy: policies.itp ?? 'Cluster',
  };
}

interface Case {
  readonly name: string;
  readonly port: ServicePort;
  readonly endpoints: Endpoint[];
  /** IPs; undefined when the list must not exist (the policy is never used). */
  readonly cluster: string[] | undefined;
  readonly local: string[] | undefined;
  readonly reachable: string[];
  readonly hasAny: boolean;
  readonly topology?: string;
}

const cases: Case[] = [
  {
    name: 'Cluster policies: every ready endpoint, no local list',
    port: port(),
    endpoints: [endpoint('10.0.0.1'), endpoint('10.0.0.2', { local: true })],
    cluster: ['10.0.0.1', '10.0.0.2'],
    local: undefined,
    reachable: ['10.0.0.1', '10.0.0.2'],
    hasAny: true,
  },
  {
    name: 'not-ready endpoints are left out while some are ready',
    port: port(),
    endpoints: [
      endpoint('10.0.0.1'),
      endpoint('10.0.0.2', { ready: false, serving: true, terminating: true }),
    ],
    cluster: ['10.0.0.1'],
    local: undefined,
    reachable: ['10.0.0.1'],
    hasAny: true,
  },
  {
    name: 'no ready endpoint: fall back to serving-terminating ones (not to non-serving ones)',
    port: port(),
    endpoints: [
      endpoint('10.0.0.1', { ready: false, serving: true, terminating: true }),
      endpoint('10.0.0.2', { ready: false, serving: false, terminating: true }),
      endpoint('10.0.0.3', { ready: false, serving: false }),
    ],
    cluster: ['10.0.0.1'],
    local: undefined,
    reachable: ['10.0.0.1'],
    hasAny: true,
  },
  {
    name: 'nothing usable: empty and hasAnyEndpoints false (the data plane rejects)',
    port: port(),
    endpoints: [endpoint('10.0.0.1', { ready: false, serving: false, terminating: true })],
    cluster: [],
    local: undefined,
    reachable: [],
    hasAny: false,
  },
  {
    name: 'internalTrafficPolicy Local, ClusterIP only: local ready endpoints only, no cluster list',
    port: port({ itp: 'Local' }),
    endpoints: [endpoint('10.0.0.1'), endpoint('10.0.0.2', { local: true })],
    cluster: undefined,
    local: ['10.0.0.2'],
    reachable: ['10.0.0.2'],
    hasAny: true,
  },
  {
    name: 'internalTrafficPolicy Local without local endpoints: none reachable, but hasAny (drop, not reject)',
    port: port({ itp: 'Local' }),
    endpoints: [endpoint('10.0.0.1')],
    cluster: undefined,
    local: [],
    reachable: [],
    hasAny: true,
  },
  {
    name: 'internalTrafficPolicy Local: local serving-terminating used when no local one is ready',
    port: port({ itp: 'Local' }),
    endpoints: [
      endpoint('10.0.0.1'),
      endpoint('10.0.0.2', { local: true, ready: false, serving: true, terminating: true }),
    ],
    cluster: undefined,
    local: ['10.0.0.2'],
    reachable: ['10.0.0.2'],
    hasAny: true,
  },
  {
    name: 'externalTrafficPolicy Local with a node port: cluster list for short-circuit, local list for outside',
    port: port({ etp: 'Local', nodePort: 30080 }),
    endpoints: [endpoint('10.0.0.1'), endpoint('10.0.0.2', { local: true })],
    cluster: ['10.0.0.1', '10.0.0.2'],
    local: ['10.0.0.2'],
    reachable: ['10.0.0.1', '10.0.0.2'],
    hasAny: true,
  },
  {
    name: 'externalTrafficPolicy Local, terminating local endpoint: reachable is the union',
    port: port({ etp: 'Local', nodePort: 30080 }),
    endpoints: [
      endpoint('10.0.0.1'),
      endpoint('10.0.0.2', { local: true, ready: false, serving: true, terminating: true }),
    ],
    cluster: ['10.0.0.1'],
    local: ['10.0.0.2'],
    reachable: ['10.0.0.1', '10.0.0.2'],
    hasAny: true,
  },
  {
    name: 'externalTrafficPolicy Local on a ClusterIP Service (not reachable from outside) is ignored',
    port: port({ etp: 'Local' }),
    endpoints: [endpoint('10.0.0.1'), endpoint('10.0.0.2', { local: true })],
    cluster: ['10.0.0.1', '10.0.0.2'],
    local: undefined,
    reachable: ['10.0.0.1', '10.0.0.2'],
    hasAny: true,
  },
  {
    name: 'zone hints on every ready endpoint, one for this zone: PreferSameZone',
    port: port(),
    endpoints: [endpoint('10.0.0.1', { zones: ['zone-a'] }), endpoint('10.0.0.2', { zones: ['zone-b'] })],
    cluster: ['10.0.0.1'],
    local: undefined,
    reachable: ['10.0.0.1'],
    hasAny: true,
    topology: 'PreferSameZone',
  },
  {
    name: 'zone hints but none for this zone: topology ignored',
    port: port(),
    endpoints: [endpoint('10.0.0.1', { zones: ['zone-b'] }), endpoint('10.0.0.2', { zones: ['zone-c'] })],
    cluster: ['10.0.0.1', '10.0.0.2'],
    local: undefined,
    reachable: ['10.0.0.1', '10.0.0.2'],
    hasAny: true,
    topology: '',
  },
  {
    name: 'a ready endpoint without a hint: topology ignored',
    port: port(),
    endpoints: [endpoint('10.0.0.1', { zones: ['zone-a'] }), endpoint('10.0.0.2')],
    cluster: ['10.0.0.1', '10.0.0.2'],
    local: undefined,
    reachable: ['10.0.0.1', '10.0.0.2'],
    hasAny: true,
    topology: '',
  },
  {
    name: 'a not-ready endpoint without a hint does not spoil the hints',
    port: port(),
    endpoints: [
      endpoint('10.0.0.1', { zones: ['zone-a'] }),
      endpoint('10.0.0.2', { zones: ['zone-b'] }),
      endpoint('10.0.0.3', { ready: false }),
    ],
    cluster: ['10.0.0.1'],
    local: undefined,
    reachable: ['10.0.0.1'],
    hasAny: true,
    topology: 'PreferSameZone',
  },
  {
    name: 'node hints for this node: PreferSameNode wins over zone hints',
    port: port(),
    endpoints: [
      endpoint('10.0.0.1', { nodes: ['node-a'], zones: ['zone-a'] }),
      endpoint('10.0.0.2', { nodes: ['node-b'], zones: ['zone-a'] }),
    ],
    cluster: ['10.0.0.1'],
    local: undefined,
    reachable: ['10.0.0.1'],
    hasAny: true,
    topology: 'PreferSameNode',
  },
  {
    name: 'node hints not for this node: fall back to zone hints',
    port: port(),
    endpoints: [
      endpoint('10.0.0.1', { nodes: ['node-c'], zones: ['zone-a'] }),
      endpoint('10.0.0.2', { nodes: ['node-b'], zones: ['zone-b'] }),
    ],
    cluster: ['10.0.0.1'],
    local: undefined,
    reachable: ['10.0.0.1'],
    hasAny: true,
    topology: 'PreferSameZone',
  },
  {
    name: 'topology with externalTrafficPolicy Local: local endpoints out of zone stay reachable',
    port: port({ etp: 'Local', nodePort: 30080 }),
    endpoints: [
      endpoint('10.0.0.1', { zones: ['zone-a'] }),
      endpoint('10.0.0.2', { zones: ['zone-b'], local: true }),
    ],
    cluster: ['10.0.0.1'],
    local: ['10.0.0.2'],
    reachable: ['10.0.0.1', '10.0.0.2'],
    hasAny: true,
    topology: 'PreferSameZone',
  },
  {
    name: 'no endpoints at all',
    port: port({ etp: 'Local', nodePort: 30080 }),
    endpoints: [],
    cluster: undefined,
    local: undefined,
    reachable: [],
    hasAny: false,
  },
];

const ips = (list: readonly Endpoint[] | undefined) => list?.map((e) => e.ip).sort();

describe('categorizeEndpoints', () => {
  for (const c of cases) {
    it(c.name, () => {
      const result = categorizeEndpoints(c.endpoints, c.port, NODE);
      assert.deepEqual(ips(result.clusterEndpoints), c.cluster, 'cluster endpoints');
      assert.deepEqual(ips(result.localEndpoints), c.local, 'local endpoints');
      assert.deepEqual(ips(result.allReachableEndpoints), c.reachable, 'all reachable endpoints');
      assert.equal(result.hasAnyEndpoints, c.hasAny, 'hasAnyEndpoints');
      if (c.topology !== undefined) assert.equal(result.topologyMode, c.topology, 'topology mode');
    });
  }
});

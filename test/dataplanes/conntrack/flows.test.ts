import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { conntrackDeleteArgs, staleConntrackFlows } from '../../../src/dataplanes/conntrack-flows.js';
import { freezeProxyState, type ProxyState } from '../../../src/model/proxy-state.js';
import { endpoint, NODE, type ServiceSpec, servicePort } from '../nftables/fixtures.js';

const pod1 = endpoint('10.1.0.1', 5353);
const pod2 = endpoint('10.1.0.2', 5353);
const pod6 = endpoint('fd00:1::1', 5353);

/** A UDP DNS-like Service at 172.30.0.10:53 with the given endpoints (and frontends). */
function dns(
  spec: Partial<ServiceSpec> & { clusterIPs?: string[] } = {},
): ServiceSpec & { clusterIPs?: string[] } {
  return { id: 'kube-system/dns:udp', clusterIP: '172.30.0.10', port: 53, protocol: 'UDP', ...spec };
}

function stateOf(...specs: (ServiceSpec & { clusterIPs?: string[] })[]): ProxyState {
  return freezeProxyState(
    NODE,
    specs.map((spec) => ({ ...servicePort(spec), clusterIPs: spec.clusterIPs ?? [spec.clusterIP] })),
  );
}

/** Each flow as the `conntrack` command line that deletes it. */
function filters(before: ProxyState | undefined, after: ProxyState): string[] {
  return staleConntrackFlows(before, after)
    .map((flow) => conntrackDeleteArgs(flow).join(' '))
    .sort();
}

const ipv4 = '-D -f ipv4 -p udp';

const cases: {
  name: string;
  before: ProxyState | undefined;
  after: ProxyState;
  expected: string[];
}[] = [
  {
    name: 'nothing changed: nothing deleted',
    before: stateOf(dns({ endpoints: [pod1, pod2] })),
    after: stateOf(dns({ endpoints: [pod1, pod2] })),
    expected: [],
  },
  {
    name: 'an endpoint added: nothing deleted',
    before: stateOf(dns({ endpoints: [pod1] })),
    after: stateOf(dns({ endpoints: [pod1, pod2] })),
    expected: [],
  },
  {
    name: 'an endpoint removed: entries to each frontend DNATed to it',
    before: stateOf(
      dns({
        endpoints: [pod1, pod2],
        nodePort: 30053,
        externalIPs: ['192.168.99.1'],
        loadBalancerIPs: ['5.6.7.8'],
      }),
    ),
    after: stateOf(
      dns({
        endpoints: [pod2],
        nodePort: 30053,
        externalIPs: ['192.168.99.1'],
        loadBalancerIPs: ['5.6.7.8'],
      }),
    ),
    expected: [
      `${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353`,
      `${ipv4} --orig-dst 192.168.99.1 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353`,
      `${ipv4} --orig-dst 5.6.7.8 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353`,
      `${ipv4} --orig-port-dst 30053 --reply-src 10.1.0.1 --reply-port-src 5353`,
    ].sort(),
  },
  {
    name: 'the endpoint moved to another port: entries DNATed to the old port',
    before: stateOf(dns({ endpoints: [pod1] })),
    after: stateOf(dns({ endpoints: [endpoint('10.1.0.1', 5454)] })),
    expected: [
      `${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353`,
    ],
  },
  {
    name: 'the last endpoint removed: its entries go, so that clients are rejected',
    before: stateOf(dns({ endpoints: [pod1] })),
    after: stateOf(dns({ endpoints: [] })),
    expected: [
      `${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353`,
    ],
  },
  {
    name: 'no endpoints, then some: entries never DNATed, to the frontend and to the node port',
    before: stateOf(dns({ endpoints: [], nodePort: 30053 })),
    after: stateOf(dns({ endpoints: [pod1], nodePort: 30053 })),
    expected: [
      `${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 172.30.0.10`,
      `${ipv4} --orig-port-dst 30053 --reply-port-src 30053`,
    ].sort(),
  },
  {
    name: 'a new Service with endpoints is newly active too',
    before: stateOf(),
    after: stateOf(dns({ endpoints: [pod1] })),
    expected: [`${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 172.30.0.10`],
  },
  {
    name: 'the first sync: only entries never DNATed can be known to be stale',
    before: undefined,
    after: stateOf(dns({ endpoints: [pod1, pod2] })),
    expected: [`${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 172.30.0.10`],
  },
  {
    name: 'a Service removed: entries DNATed to its endpoints',
    before: stateOf(dns({ endpoints: [pod1, pod2] })),
    after: stateOf(),
    expected: [
      `${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353`,
      `${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 10.1.0.2 --reply-port-src 5353`,
    ],
  },
  {
    name: 'an external IP removed: only its entries; the new one is newly active',
    before: stateOf(dns({ endpoints: [pod1], externalIPs: ['192.168.99.1'] })),
    after: stateOf(dns({ endpoints: [pod1], externalIPs: ['192.168.99.2'] })),
    expected: [
      `${ipv4} --orig-dst 192.168.99.1 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353`,
      `${ipv4} --orig-dst 192.168.99.2 --orig-port-dst 53 --reply-src 192.168.99.2`,
    ],
  },
  {
    name: 'the Service port changed number: the old port entries go, the new one is newly active',
    before: stateOf(dns({ endpoints: [pod1] })),
    after: stateOf(dns({ endpoints: [pod1], port: 54 })),
    expected: [
      `${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353`,
      `${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 54 --reply-src 172.30.0.10`,
    ],
  },
  {
    name: 'a frontend that moved to another Service port with the same endpoints: nothing deleted',
    before: stateOf(dns({ endpoints: [pod1] })),
    after: stateOf(dns({ id: 'kube-system/dns-v2:udp', endpoints: [pod1] })),
    expected: [],
  },
  {
    name: 'dual-stack: an IPv6 endpoint removed touches only IPv6 entries',
    before: stateOf(dns({ clusterIPs: ['172.30.0.10', 'fd00:30::10'], endpoints: [pod1, pod6] })),
    after: stateOf(dns({ clusterIPs: ['172.30.0.10', 'fd00:30::10'], endpoints: [pod1] })),
    expected: [
      '-D -f ipv6 -p udp --orig-dst fd00:30::10 --orig-port-dst 53 --reply-src fd00:1::1 --reply-port-src 5353',
    ],
  },
  {
    name: 'TCP and SCTP are left alone, as kube-proxy leaves them',
    before: stateOf(
      dns({ protocol: 'TCP', endpoints: [pod1, pod2] }),
      dns({ id: 'default/sctp', protocol: 'SCTP', clusterIP: '172.30.0.11', endpoints: [pod1] }),
    ),
    after: stateOf(
      dns({ protocol: 'TCP', endpoints: [pod2] }),
      dns({ id: 'default/sctp', protocol: 'SCTP', clusterIP: '172.30.0.11', endpoints: [] }),
    ),
    expected: [],
  },
  {
    name: 'a UDP port turned TCP: its UDP entries go',
    before: stateOf(dns({ endpoints: [pod1] })),
    after: stateOf(dns({ protocol: 'TCP', endpoints: [pod1] })),
    expected: [
      `${ipv4} --orig-dst 172.30.0.10 --orig-port-dst 53 --reply-src 10.1.0.1 --reply-port-src 5353`,
    ],
  },
];

describe('staleConntrackFlows', () => {
  for (const { name, before, after, expected } of cases) {
    test(name, () => assert.deepEqual(filters(before, after), expected));
  }
});

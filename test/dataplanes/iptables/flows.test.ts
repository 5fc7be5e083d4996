import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderIptablesRestore } from '../../../src/dataplanes/iptables/render.js';
import { parseIptablesRules, traceFlow, tracePacket } from '../../fakes/iptables-tracer.js';
import { endpoint, nodeIP, renderOptions, stateOf } from './fixtures.js';

const externalClient = '203.0.113.2';
const deniedClient = '203.0.113.200';
const podIP = '10.0.0.2';

const state = stateOf(
  {
    namespace: 'ns1',
    name: 'svc1',
    port: 80,
    clusterIP: '172.30.0.41',
    nodePort: 3001,
    externalIPs: ['192.168.99.11'],
    loadBalancerIPs: ['1.2.3.4'],
    endpoints: [endpoint('10.180.0.1', 80, true), endpoint('10.180.2.1', 80)],
  },
  {
    namespace: 'ns2',
    name: 'local',
    port: 80,
    clusterIP: '172.30.0.42',
    nodePort: 3002,
    externalTrafficPolicy: 'Local',
    endpoints: [endpoint('10.180.0.2', 80, true), endpoint('10.180.2.2', 80)],
  },
  {
    namespace: 'ns3',
    name: 'nolocal',
    port: 80,
    clusterIP: '172.30.0.43',
    nodePort: 3003,
    externalTrafficPolicy: 'Local',
    endpoints: [endpoint('10.180.2.3', 80)],
  },
  {
    namespace: 'ns4',
    name: 'fw',
    port: 80,
    clusterIP: '172.30.0.44',
    loadBalancerIPs: ['5.6.7.8'],
    loadBalancerSourceRanges: ['203.0.113.0/25'],
    endpoints: [endpoint('10.180.0.4', 80)],
  },
  {
    namespace: 'ns5',
    name: 'empty',
    port: 80,
    clusterIP: '172.30.0.45',
    nodePort: 3005,
    externalIPs: ['192.168.99.15'],
  },
  {
    namespace: 'ns6',
    name: 'itplocal',
    port: 80,
    clusterIP: '172.30.0.46',
    internalTrafficPolicy: 'Local',
    endpoints: [endpoint('10.180.2.6', 80)],
  },
);

const text = renderIptablesRestore(state, renderOptions());
const both = '10.180.0.1:80, 10.180.2.1:80';

const flows = [
  { name: 'pod to cluster IP', src: podIP, dst: '172.30.0.41', port: 80, output: both, masq: false },
  { name: 'node to cluster IP', src: nodeIP, dst: '172.30.0.41', port: 80, output: both, masq: true },
  {
    name: 'hairpin from an endpoint',
    src: '10.180.0.1',
    dst: '172.30.0.41',
    port: 80,
    output: both,
    masq: true,
  },
  { name: 'wrong port on cluster IP', src: podIP, dst: '172.30.0.41', port: 81, output: '', masq: false },
  { name: 'external to node port', src: externalClient, dst: nodeIP, port: 3001, output: both, masq: true },
  {
    name: 'external to external IP',
    src: externalClient,
    dst: '192.168.99.11',
    port: 80,
    output: both,
    masq: true,
  },
  { name: 'external to LB IP', src: externalClient, dst: '1.2.3.4', port: 80, output: both, masq: true },
  {
    name: 'ETP Local: external reaches only the local endpoint, unmasqueraded',
    src: externalClient,
    dst: nodeIP,
    port: 3002,
    output: '10.180.0.2:80',
    masq: false,
  },
  {
    name: 'ETP Local: pod traffic to node port short-circuits to all endpoints',
    src: podIP,
    dst: nodeIP,
    port: 3002,
    output: '10.180.0.2:80, 10.180.2.2:80',
    masq: false,
  },
  {
    name: 'ETP Local: node traffic is masqueraded to all endpoints',
    src: nodeIP,
    dst: nodeIP,
    port: 3002,
    output: '10.180.0.2:80, 10.180.2.2:80',
    masq: true,
  },
  {
    name: 'ETP Local without local endpoints drops outside traffic',
    src: externalClient,
    dst: nodeIP,
    port: 3003,
    output: 'DROP',
    masq: false,
  },
  {
    name: 'ETP Local without local endpoints: cluster IP still works',
    src: podIP,
    dst: '172.30.0.43',
    port: 80,
    output: '10.180.2.3:80',
    masq: false,
  },
  {
    name: 'allowed source range reaches the LB',
    src: externalClient,
    dst: '5.6.7.8',
    port: 80,
    output: '10.180.0.4:80',
    masq: true,
  },
  {
    name: 'disallowed source is dropped at the LB',
    src: deniedClient,
    dst: '5.6.7.8',
    port: 80,
    output: 'DROP',
    masq: false,
  },
  {
    name: 'no endpoints: cluster IP rejects',
    src: podIP,
    dst: '172.30.0.45',
    port: 80,
    output: 'REJECT',
    masq: false,
  },
  {
    name: 'no endpoints: node port rejects',
    src: externalClient,
    dst: nodeIP,
    port: 3005,
    output: 'REJECT',
    masq: false,
  },
  {
    name: 'no endpoints: external IP rejects',
    src: externalClient,
    dst: '192.168.99.15',
    port: 80,
    output: 'REJECT',
    masq: false,
  },
  {
    name: 'ITP Local without local endpoints drops',
    src: podIP,
    dst: '172.30.0.46',
    port: 80,
    output: 'DROP',
    masq: false,
  },
];

for (const flow of flows) {
  test(flow.name, () => {
    const result = traceFlow(text, { ...flow, localAddresses: [nodeIP] });
    assert.deepEqual(result, { output: flow.output, masquerade: flow.masq });
  });
}

test('a UDP packet does not match a TCP Service', () => {
  const result = traceFlow(text, {
    src: podIP,
    dst: '172.30.0.41',
    port: 80,
    protocol: 'udp',
    localAddresses: [nodeIP],
  });
  assert.equal(result.output, '');
});

test('three endpoints are each reached with probability 1/3', () => {
  const endpoints = [1, 2, 3].map((i) => endpoint(`10.180.0.${i}`, 80));
  const three = renderIptablesRestore(
    stateOf({ namespace: 'ns', name: 's', port: 80, clusterIP: '172.30.0.9', endpoints }),
    renderOptions(),
  );
  const outcomes = tracePacket(
    parseIptablesRules(three),
    { protocol: 'tcp', sourceIP: podIP, destinationIP: '172.30.0.9', destinationPort: 80 },
    { localAddresses: [nodeIP] },
  );
  assert.equal(outcomes.length, 3);
  for (const outcome of outcomes)
    assert.ok(Math.abs(outcome.probability - 1 / 3) < 1e-9, String(outcome.probability));
  const chains = outcomes[0]?.chains ?? [];
  assert.equal(chains[0], 'nat/KUBE-SERVICES');
  assert.match(chains[1] ?? '', /^nat\/KUBE-SVC-/);
  assert.match(chains[2] ?? '', /^nat\/KUBE-SEP-/);
});

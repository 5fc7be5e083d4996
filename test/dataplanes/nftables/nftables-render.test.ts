import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderNftablesTable } from '../../../src/dataplanes/nftables/nftables-renderer.js';
import { parseNftTable } from '../../fakes/nft-parse.js';
import { type TraceOutcome, type TracePacket, tracePacket } from '../../fakes/nft-trace.js';
import { endpoint, renderOptions, stateOf } from './fixtures.js';

const state = stateOf(
  {
    id: 'ns1/web:http',
    clusterIP: '172.30.0.10',
    endpoints: [endpoint('10.1.0.1'), endpoint('10.1.0.2'), endpoint('10.1.0.3', 8080, false)],
    nodePort: 30080,
    externalIPs: ['192.168.60.10'],
  },
  {
    id: 'ns1/dns:udp',
    clusterIP: '172.30.0.10',
    port: 53,
    protocol: 'UDP',
    endpoints: [endpoint('10.1.0.5', 53)],
  },
  {
    id: 'ns1/sticky',
    clusterIP: '172.30.0.11',
    endpoints: [endpoint('10.1.0.1'), endpoint('10.1.0.2')],
    affinitySeconds: 60,
  },
  {
    id: 'ns1/lb',
    clusterIP: '172.30.0.12',
    endpoints: [endpoint('10.1.0.1'), endpoint('10.1.0.3', 8080, false)],
    loadBalancerIPs: ['192.168.70.10'],
    sourceRanges: ['192.168.50.2/32'],
    local: true,
    nodePort: 30081,
  },
  { id: 'ns1/empty', clusterIP: '172.30.0.13', nodePort: 30082 },
  {
    id: 'ns1/remote-only',
    clusterIP: '172.30.0.14',
    endpoints: [endpoint('10.1.0.3', 8080, false)],
    local: true,
    nodePort: 30083,
  },
);
const table = parseNftTable(renderNftablesTable(state, renderOptions()));
const outside = (
  dst: string,
  port: number,
  src = '192.168.50.2',
  protocol: TracePacket['protocol'] = 'tcp',
) => ({
  src,
  dst,
  port,
  protocol,
  from: 'outside' as const,
  localAddresses: ['192.168.50.1'],
});

/** endpoint (or verdict) → probability, and whether each reached endpoint is masqueraded. */
function summary(outcomes: TraceOutcome[]) {
  const reach: Record<string, number> = {};
  const masquerade: Record<string, boolean> = {};
  for (const o of outcomes) {
    const key = o.endpoint ?? o.verdict;
    reach[key] = Math.round(((reach[key] ?? 0) + o.probability) * 1000) / 1000;
    masquerade[key] = o.masquerade;
  }
  return { reach, masquerade };
}

const third = 0.333;
const flows: { name: string; packet: TracePacket; reach: Record<string, number>; masquerade?: boolean }[] = [
  {
    name: 'cluster IP from outside the cluster CIDR: every endpoint, masqueraded',
    packet: outside('172.30.0.10', 80),
    reach: { '10.1.0.1:8080': third, '10.1.0.2:8080': third, '10.1.0.3:8080': third },
    masquerade: true,
  },
  {
    name: 'cluster IP from a pod: every endpoint, not masqueraded',
    packet: outside('172.30.0.10', 80, '10.1.0.9'),
    reach: { '10.1.0.1:8080': third, '10.1.0.2:8080': third, '10.1.0.3:8080': third },
    masquerade: false,
  },
  {
    name: 'same address, UDP port: the other Service',
    packet: outside('172.30.0.10', 53, '10.1.0.9', 'udp'),
    reach: { '10.1.0.5:53': 1 },
    masquerade: false,
  },
  {
    name: 'node port, externalTrafficPolicy Cluster: masqueraded',
    packet: outside('192.168.50.1', 30080),
    reach: { '10.1.0.1:8080': third, '10.1.0.2:8080': third, '10.1.0.3:8080': third },
    masquerade: true,
  },
  {
    name: 'external IP: masqueraded',
    packet: outside('192.168.60.10', 80, '10.1.0.9'),
    reach: { '10.1.0.1:8080': third, '10.1.0.2:8080': third, '10.1.0.3:8080': third },
    masquerade: true,
  },
  {
    name: 'LB IP from an allowed source, ETP Local: the local endpoint only, client address kept',
    packet: outside('192.168.70.10', 80),
    reach: { '10.1.0.1:8080': 1 },
    masquerade: false,
  },
  {
    name: 'LB IP from a disallowed source: dropped',
    packet: outside('192.168.70.10', 80, '192.168.50.3'),
    reach: { drop: 1 },
  },
  {
    name: 'ETP Local node port: local endpoint only',
    packet: outside('192.168.50.1', 30081),
    reach: { '10.1.0.1:8080': 1 },
    masquerade: false,
  },
  {
    name: 'ETP Local without local endpoints: dropped',
    packet: outside('192.168.50.1', 30083),
    reach: { drop: 1 },
  },
  {
    name: '... but its cluster IP still works',
    packet: outside('172.30.0.14', 80, '10.1.0.9'),
    reach: { '10.1.0.3:8080': 1 },
  },
  {
    name: 'ETP Local node port from a pod: every endpoint (short-circuit), not masqueraded',
    packet: outside('192.168.50.1', 30081, '10.1.0.9'),
    reach: { '10.1.0.1:8080': 0.5, '10.1.0.3:8080': 0.5 },
    masquerade: false,
  },
  {
    name: 'ETP Local without local endpoints, from a pod: still reaches the remote pod',
    packet: outside('192.168.50.1', 30083, '10.1.0.9'),
    reach: { '10.1.0.3:8080': 1 },
  },
  { name: 'no endpoints: rejected', packet: outside('172.30.0.13', 80), reach: { reject: 1 } },
  { name: 'no endpoints, node port: rejected', packet: outside('192.168.50.1', 30082), reach: { reject: 1 } },
  { name: 'not a Service port: untouched', packet: outside('172.30.0.10', 81), reach: { accept: 1 } },
  {
    name: 'a pod reaching itself through its Service is masqueraded (hairpin)',
    packet: outside('172.30.0.11', 80, '10.1.0.1'),
    reach: { '10.1.0.1:8080': 0.5, '10.1.0.2:8080': 0.5 },
  },
  {
    name: 'node process to a cluster IP (output hook)',
    packet: { ...outside('172.30.0.10', 80, '192.168.50.1'), from: 'local' },
    reach: { '10.1.0.1:8080': third, '10.1.0.2:8080': third, '10.1.0.3:8080': third },
    masquerade: true,
  },
];

describe('nftables renderer, traced', () => {
  for (const flow of flows) {
    it(flow.name, () => {
      const { reach, masquerade } = summary(tracePacket(table, flow.packet));
      assert.deepEqual(reach, flow.reach);
      if (flow.masquerade !== undefined) {
        for (const key of Object.keys(flow.reach)) assert.equal(masquerade[key], flow.masquerade, key);
      }
    });
  }

  it('masquerades hairpin traffic only when the pod meets itself', () => {
    const outcomes = tracePacket(table, outside('172.30.0.11', 80, '10.1.0.1'));
    const byEndpoint = Object.fromEntries(outcomes.map((o) => [o.endpoint, o.masquerade]));
    assert.deepEqual(byEndpoint, { '10.1.0.1:8080': true, '10.1.0.2:8080': false });
  });

  it("keeps hairpin pairs for this node's pods only", () => {
    const hairpin = [...(table.maps.get('hairpin')?.keys() ?? [])].sort();
    assert.deepEqual(hairpin, ['10.1.0.1 . 10.1.0.1', '10.1.0.2 . 10.1.0.2', '10.1.0.5 . 10.1.0.5']);
  });

  it('session affinity: a new client is remembered where it went, a known one goes back', () => {
    const first = tracePacket(table, outside('172.30.0.11', 80, '10.1.0.9'));
    const toSecond = first.find((o) => o.endpoint === '10.1.0.2:8080');
    const set = toSecond?.remembers[0];
    assert.ok(set, 'the connection is remembered in an affinity set');
    const again = tracePacket(table, {
      ...outside('172.30.0.11', 80, '10.1.0.9'),
      remembered: new Map([[set, ['10.1.0.9']]]),
    });
    assert.deepEqual(summary(again).reach, { '10.1.0.2:8080': 1 });
  });
});

describe('nftables renderer, text', () => {
  it('keeps the layout flat: endpoints in maps, no chain per endpoint', () => {
    const chains = [...table.chains.keys()];
    assert.equal(chains.filter((name) => name.includes('10.1.0')).length, 0);
    assert.equal(table.maps.get('service-endpoints')?.get('172.30.0.10 . tcp . 80 . 2'), '10.1.0.3 . 8080');
    assert.equal(table.maps.get('service-ips')?.get('172.30.0.10 . tcp . 80'), 'goto cluster-pick-3');
  });

  it('names from manifests never break or add a rule', () => {
    const clean = renderNftablesTable(
      stateOf({ id: 'ns/a', clusterIP: '172.30.0.1', endpoints: [endpoint('10.1.0.1')] }),
      renderOptions(),
    );
    const hostile = [
      'ns/a"; drop; #',
      'ns/a\n\tchain evil {',
      `ns/${'x'.repeat(400)}`,
      'ns/a} add rule ip kproxy x',
    ];
    for (const id of hostile) {
      const text = renderNftablesTable(
        stateOf({ id, clusterIP: '172.30.0.1', endpoints: [endpoint('10.1.0.1')] }),
        renderOptions(),
      );
      assert.equal(text.split('\n').length, clean.split('\n').length, id);
      for (const comment of text.matchAll(/comment "([^"]*)"/g))
        assert.match(comment[1] ?? '', /^[A-Za-z0-9_./:@ -]{1,120}$/);
      parseNftTable(text);
    }
  });

  it('renders IPv6 in an ip6 table with bracketed DNAT targets', () => {
    const v6 = stateOf({
      id: 'ns/v6',
      clusterIP: 'fd00:30::10',
      endpoints: [endpoint('fd00:1::1'), endpoint('fd00:1::2')],
      affinitySeconds: 30,
    });
    const text = renderNftablesTable(
      v6,
      renderOptions({ ipFamily: 'IPv6', nodeIPs: ['fd00:50::1'], clusterCIDRs: ['fd00:1::/64'] }),
    );
    assert.match(text, /^table ip6 kproxy \{/);
    assert.match(text, /dnat to \[fd00:1::1\]:8080/);
    const traced = tracePacket(parseNftTable(text), {
      ...outside('fd00:30::10', 80, 'fd00:50::2'),
      localAddresses: ['fd00:50::1'],
    });
    assert.deepEqual(summary(traced).reach, { '[fd00:1::1]:8080': 0.5, '[fd00:1::2]:8080': 0.5 });
    assert.ok(traced.every((o) => o.masquerade));
  });

  it('IPv4 addresses never land in the IPv6 table and vice versa', () => {
    const text = renderNftablesTable(
      state,
      renderOptions({ ipFamily: 'IPv6', nodeIPs: [], clusterCIDRs: [] }),
    );
    assert.doesNotMatch(text, /172\.30\./);
  });

  it('masqueradeAll marks cluster IP traffic from pods too', () => {
    const all = parseNftTable(renderNftablesTable(state, renderOptions({ masqueradeAll: true })));
    assert.ok(tracePacket(all, outside('172.30.0.10', 80, '10.1.0.9')).every((o) => o.masquerade));
  });
});

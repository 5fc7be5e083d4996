import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipvsNftablesRenderer } from '../../../src/dataplanes/ipvs/ipvs-nftables-renderer.js';
import { ipvsadmRenderer } from '../../../src/dataplanes/ipvs/ipvsadm-renderer.js';
import { servicePortKey } from '../../../src/dataplanes/nftables/nft-terms.js';
import { freezeProxyState } from '../../../src/model/proxy-state.js';
import { maglevTable, weightedBucketTable } from '../../../src/schedulers/tables.js';
import { parseNftTable } from '../../fakes/nft-parse.js';
import { tracePacket } from '../../fakes/nft-trace.js';
import { endpoint, renderOptions, servicePort, stateOf } from '../nftables/fixtures.js';

const pods = [endpoint('10.1.0.1'), endpoint('10.1.0.2'), endpoint('10.1.0.3')];
const schedulerState = stateOf(
  { id: 'ns/rr', clusterIP: '172.30.0.1', endpoints: pods, scheduler: 'rr', nodePort: 30001 },
  { id: 'ns/wrr', clusterIP: '172.30.0.2', endpoints: pods, scheduler: 'wrr' },
  { id: 'ns/sh', clusterIP: '172.30.0.3', endpoints: pods, scheduler: 'sh' },
  { id: 'ns/dh', clusterIP: '172.30.0.4', endpoints: pods, scheduler: 'dh' },
  { id: 'ns/mh', clusterIP: '172.30.0.5', endpoints: pods, scheduler: 'mh' },
  { id: 'ns/lc', clusterIP: '172.30.0.6', endpoints: pods, scheduler: 'lc' },
);
const table = parseNftTable(ipvsNftablesRenderer.render(schedulerState, renderOptions()));

/** Each endpoint's share of the outcomes for a packet to ip:80 from a pod. */
function shares(ip: string): Record<string, number> {
  const packet = {
    src: '10.1.9.9',
    dst: ip,
    port: 80,
    protocol: 'tcp' as const,
    from: 'outside' as const,
    localAddresses: ['192.168.50.1'],
  };
  const out: Record<string, number> = {};
  for (const o of tracePacket(table, packet)) {
    const key = o.endpoint ?? o.verdict;
    out[key] = Math.round(((out[key] ?? 0) + o.probability) * 1e6) / 1e6;
  }
  return out;
}

const bucketShare = (t: Int32Array, i: number) =>
  Math.round((t.filter((x) => x === i).length / t.length) * 1e6) / 1e6;

describe('ipvs schedulers in nftables, traced', () => {
  it('rr: a per-Service numgen inc counter over the endpoints, in its own chain', () => {
    assert.deepEqual(shares('172.30.0.1'), {
      '10.1.0.1:8080': 0.333333,
      '10.1.0.2:8080': 0.333333,
      '10.1.0.3:8080': 0.333333,
    });
    const chain = table.chains.get(`ipvs-${servicePortKey('ns/rr', 'TCP')}-cluster`);
    assert.deepEqual(chain?.rules, [
      'ip saddr != { 10.1.0.0/16 } meta mark set meta mark | 0x00004000',
      'meta l4proto tcp dnat to numgen inc mod 3 map { 0 : 10.1.0.1 . 8080, 1 : 10.1.0.2 . 8080, 2 : 10.1.0.3 . 8080 }',
    ]);
  });

  it('sh and dh: each endpoint owns its share of the 256 buckets', () => {
    const buckets = weightedBucketTable([1, 1, 1]);
    const expected = Object.fromEntries(pods.map((p, i) => [`${p.ip}:8080`, bucketShare(buckets, i)]));
    assert.deepEqual(shares('172.30.0.3'), expected);
    assert.deepEqual(shares('172.30.0.4'), expected);
  });

  it('mh: the Maglev table as the map', () => {
    const slots = maglevTable(pods.map((p) => ({ id: `${p.ip}:8080`, weight: 1 })));
    const expected = Object.fromEntries(pods.map((p, i) => [`${p.ip}:8080`, bucketShare(slots, i)]));
    assert.deepEqual(shares('172.30.0.5'), expected);
  });

  it('wrr: one wrr cycle over numgen inc', () => {
    assert.deepEqual(
      Object.keys(shares('172.30.0.2')).sort(),
      pods.map((p) => `${p.ip}:8080`),
    );
  });

  it('a stateful scheduler is handed to the userspace listener', () => {
    assert.deepEqual(shares('172.30.0.6'), { '127.0.0.1:0': 1 });
  });

  it('hash seeds are fixed, so a rewrite keeps every client on its endpoint', () => {
    const again = ipvsNftablesRenderer.render(schedulerState, renderOptions());
    assert.equal(again, ipvsNftablesRenderer.render(schedulerState, renderOptions()));
    assert.match(again, /jhash ip saddr mod 256 seed 0x[0-9a-f]{8} map/);
    assert.match(again, /jhash ip daddr mod 256 seed/);
  });
});

describe('scheduler flags', () => {
  const flagged = (id: string, clusterIP: string, scheduler: string, schedulerFlags?: string[]) => ({
    ...servicePort({ id, clusterIP, endpoints: pods, scheduler }),
    schedulerFlags,
  });
  const state = freezeProxyState('node-a', [
    flagged('ns/mh', '172.30.0.5', 'mh'),
    flagged('ns/mh-bare', '172.30.0.6', 'mh', []),
    flagged('ns/sh', '172.30.0.3', 'sh'),
    flagged('ns/sh-port', '172.30.0.7', 'sh', ['sh-port']),
    flagged('ns/sh-fallback', '172.30.0.8', 'sh', ['sh-fallback']),
  ]);
  const text = ipvsNftablesRenderer.render(state, renderOptions());
  /** The pick rule of a Service's cluster chain. */
  const pickOf = (id: string) => {
    const chain = `ipvs-${servicePortKey(id, 'TCP')}-cluster`;
    const body = text.slice(text.indexOf(`chain ${chain} {`));
    return (
      body
        .slice(0, body.indexOf('}\n'))
        .split('\n')
        .find((line) => line.includes('dnat to')) ?? ''
    );
  };

  it('mh hashes the source port by default (kube-proxy sets mh-port); an empty annotation does not', () => {
    assert.match(pickOf('ns/mh'), /dnat to jhash ip saddr \. th sport mod 4093 seed 0x[0-9a-f]{8} map/);
    assert.match(pickOf('ns/mh-bare'), /dnat to jhash ip saddr mod 4093 seed/);
  });

  it('sh hashes the source address alone, and the source port too with sh-port', () => {
    assert.match(pickOf('ns/sh'), /dnat to jhash ip saddr mod 256 seed/);
    assert.match(pickOf('ns/sh-port'), /dnat to jhash ip saddr \. th sport mod 256 seed/);
  });

  it('the chain comment names the flags', () => {
    assert.match(text, /comment "ns\/mh mh mh-port"/);
    assert.match(text, /comment "ns\/sh-port sh sh-port"/);
    assert.match(text, /comment "ns\/sh sh"/);
  });

  it('a fallback flag sends the Service to the userspace listener', () => {
    const packet = {
      src: '10.1.9.9',
      dst: '172.30.0.8',
      port: 80,
      protocol: 'tcp' as const,
      from: 'outside' as const,
      localAddresses: ['192.168.50.1'],
    };
    const outcomes = tracePacket(parseNftTable(text), packet).map((o) => o.endpoint ?? o.verdict);
    assert.deepEqual([...new Set(outcomes)], ['127.0.0.1:0']);
  });

  it('IPv6 hashes ip6 saddr . th sport', () => {
    const v6 = freezeProxyState('node-a', [
      {
        ...servicePort({
          id: 'ns/v6',
          clusterIP: 'fd00:30::1',
          endpoints: [endpoint('fd00:1::1')],
          scheduler: 'mh',
        }),
      },
    ]);
    const rendered = ipvsNftablesRenderer.render(v6, renderOptions({ ipFamily: 'IPv6', nodeIPs: [] }));
    assert.match(rendered, /dnat to jhash ip6 saddr \. th sport mod 4093 seed/);
  });

  it('ipvsadm-restore sets the flags with -b, mh-port for mh as kube-proxy does', () => {
    const lines = ipvsadmRenderer.render(state, renderOptions()).split('\n');
    for (const line of [
      '-A -t 172.30.0.5:80 -s mh -b mh-port',
      '-A -t 172.30.0.6:80 -s mh',
      '-A -t 172.30.0.3:80 -s sh',
      '-A -t 172.30.0.7:80 -s sh -b sh-port',
      '-A -t 172.30.0.8:80 -s sh -b sh-fallback',
    ]) {
      assert.ok(lines.includes(line), `missing: ${line}`);
    }
  });
});

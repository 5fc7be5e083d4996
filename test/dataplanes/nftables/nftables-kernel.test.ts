import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NftablesDataplane } from '../../../src/dataplanes/nftables/nftables-dataplane.js';
import { endpoint, renderOptions, type ServiceSpec, stateOf } from './fixtures.js';
import { chiSquareUniform, kernelTestOptions, NetnsLab, tally } from './netns-lab.js';

const pods = ['10.1.0.1', '10.1.0.2', '10.1.0.3'];
const podAddresses = pods.map((ip) => `${ip}:8080`);
const services: ServiceSpec[] = [
  {
    id: 'ns1/web:http',
    clusterIP: '172.30.0.10',
    endpoints: pods.map((ip) => endpoint(ip)),
    nodePort: 30080,
    externalIPs: ['192.168.60.10'],
  },
  {
    id: 'ns1/sticky',
    clusterIP: '172.30.0.11',
    endpoints: pods.map((ip) => endpoint(ip)),
    affinitySeconds: 600,
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
  { id: 'ns1/empty', clusterIP: '172.30.0.13' },
];

describe('nftables mode in the kernel', kernelTestOptions(), () => {
  const lab = new NetnsLab('nft');
  let dataplane: NftablesDataplane;

  before(async () => {
    lab.create();
    await lab.startPods(pods, 8080);
    dataplane = new NftablesDataplane({
      render: renderOptions({ nodeIPs: [lab.nodeIP] }),
      runner: lab.nft(),
    });
    const result = await dataplane.sync(stateOf(...services), new Set());
    assert.equal(result.failed.size, 0, [...result.failed.values()].join('\n'));
  });
  after(() => lab.destroy());

  it('spreads a cluster IP over every pod, uniformly (chi-square, p = 0.001)', () => {
    const counts = tally(lab.connect('172.30.0.10', 80, 300));
    assert.deepEqual(Object.keys(counts).sort(), podAddresses);
    assert.ok(chiSquareUniform(counts, podAddresses) < 13.82, JSON.stringify(counts));
  });

  it('answers on the node port, the external IP and the LB IP', () => {
    assert.deepEqual(Object.keys(tally(lab.connect(lab.nodeIP, 30080, 60))).sort(), podAddresses);
    assert.deepEqual(Object.keys(tally(lab.connect('192.168.60.10', 80, 60))).sort(), podAddresses);
    assert.deepEqual(tally(lab.connect('192.168.70.10', 80, 10)), { '10.1.0.1:8080': 10 });
  });

  it('ETP Local: node port traffic reaches only the local pod', () => {
    assert.deepEqual(tally(lab.connect(lab.nodeIP, 30081, 20)), { '10.1.0.1:8080': 20 });
  });

  it('drops a source outside loadBalancerSourceRanges', () => {
    assert.deepEqual(lab.connect('192.168.70.10', 80, 1, [lab.clientIPs[1] as string], 800), ['ETIMEDOUT']);
  });

  it('refuses connections to a Service without endpoints at once', () => {
    assert.deepEqual(lab.connect('172.30.0.13', 80, 3, undefined, 3000), [
      'ECONNREFUSED',
      'ECONNREFUSED',
      'ECONNREFUSED',
    ]);
  });

  it('keeps each client on one pod with ClientIP affinity', () => {
    const sources = lab.clientIPs.slice(0, 6);
    const results = lab.connect('172.30.0.11', 80, 60, sources);
    const podsPerSource = sources.map((_, s) => new Set(results.filter((_, i) => i % sources.length === s)));
    for (const seen of podsPerSource) assert.equal(seen.size, 1, [...seen].join(','));
  });
});

describe('nftables mode over IPv6 in the kernel', kernelTestOptions(), () => {
  const lab = new NetnsLab('nf6');
  const pods6 = ['fd00:1::1', 'fd00:1::2'];
  before(async () => {
    lab.create();
    lab.addIPv6();
    await lab.startPods(pods6, 8080);
  });
  after(() => lab.destroy());

  it('spreads an IPv6 cluster IP over its pods and refuses one without endpoints', async () => {
    const dataplane = new NftablesDataplane({
      render: renderOptions({ ipFamily: 'IPv6', nodeIPs: ['fd00:50::1'], clusterCIDRs: ['fd00:1::/64'] }),
      runner: lab.nft(),
    });
    const state = stateOf(
      { id: 'ns/v6', clusterIP: 'fd00:30::10', endpoints: pods6.map((ip) => endpoint(ip)), nodePort: 30090 },
      { id: 'ns/v6-empty', clusterIP: 'fd00:30::11' },
    );
    assert.equal((await dataplane.sync(state, new Set())).failed.size, 0);
    const expected = pods6.map((ip) => `${ip}:8080`);
    assert.deepEqual(Object.keys(tally(lab.connect('fd00:30::10', 80, 40, ['fd00:50::2']))).sort(), expected);
    assert.deepEqual(
      Object.keys(tally(lab.connect('fd00:50::1', 30090, 40, ['fd00:50::2']))).sort(),
      expected,
    );
    assert.deepEqual(lab.connect('fd00:30::11', 80, 1, ['fd00:50::2'], 3000), ['ECONNREFUSED']);
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type NftRunner, nftRunner } from '../../../src/dataplanes/nftables/nft-runner.js';
import { NftablesDataplane } from '../../../src/dataplanes/nftables/nftables-dataplane.js';
import { renderNftablesTable } from '../../../src/dataplanes/nftables/nftables-renderer.js';
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

/** `nft -j list table` without handles and with elements sorted: equal tables compare equal. */
export async function normalizedTable(runner: NftRunner, family = 'ip'): Promise<string> {
  const { stdout, code, stderr } = await runner.run(['-j', 'list', 'table', family, 'kproxy']);
  assert.equal(code, 0, stderr);
  const objects = (JSON.parse(stdout) as { nftables: Record<string, Record<string, unknown>>[] }).nftables
    .filter((entry) => !('metainfo' in entry))
    .map((entry) => {
      const [kind, body] = Object.entries(entry)[0] as [string, Record<string, unknown>];
      const { handle: _handle, ...rest } = body;
      if (Array.isArray(rest.elem)) rest.elem = rest.elem.map((e) => JSON.stringify(e)).sort();
      return JSON.stringify({ [kind]: rest });
    });
  return objects.sort().join('\n');
}

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

describe('nftables partial syncs in the kernel', kernelTestOptions(), () => {
  const lab = new NetnsLab('nfp');
  const reference = `kp-nfr-${process.pid}`;
  before(() => {
    lab.create();
    execFileSync('ip', ['netns', 'add', reference]);
  });
  after(() => {
    lab.destroy();
    execFileSync('ip', ['netns', 'del', reference]);
  });

  it('after 100 random changes applied as partial syncs, the kernel holds exactly the full render', async () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const specs = new Map<string, ServiceSpec>();
    const makeSpec = (i: number): ServiceSpec => ({
      id: `ns${i % 3}/svc-${i}`,
      clusterIP: `172.30.1.${i}`,
      endpoints: Array.from({ length: random(5) }, (_, e) =>
        endpoint(`10.1.${i}.${e + random(3)}`, 8080, random(2) === 0),
      ),
      nodePort: random(3) === 0 ? 30000 + i : undefined,
      externalIPs: random(4) === 0 ? [`192.168.60.${i}`] : [],
      loadBalancerIPs: random(4) === 0 ? [`192.168.70.${i}`] : [],
      sourceRanges: random(2) === 0 ? ['192.168.50.0/24'] : [],
      affinitySeconds: random(4) === 0 ? 60 + random(3) : undefined,
      local: random(3) === 0,
    });
    for (let i = 1; i <= 20; i++) specs.set(`s${i}`, makeSpec(i));
    const dataplane = new NftablesDataplane({
      render: renderOptions({ nodeIPs: [lab.nodeIP] }),
      runner: lab.nft(),
    });
    const state = () => stateOf(...specs.values());
    assert.equal((await dataplane.sync(state(), new Set())).failed.size, 0);
    for (let change = 0; change < 100; change++) {
      const i = 1 + random(25);
      const previous = specs.get(`s${i}`);
      if (previous && random(5) === 0) specs.delete(`s${i}`);
      else specs.set(`s${i}`, makeSpec(i));
      const changed = new Set([previous?.id ?? makeSpec(i).id, specs.get(`s${i}`)?.id ?? '']);
      changed.delete('');
      const result = await dataplane.sync(state(), changed);
      assert.equal(result.failed.size, 0, [...result.failed.values()].join('\n'));
    }
    const referenceRunner = nftRunner(['ip', 'netns', 'exec', reference, 'nft']);
    const full = renderNftablesTable(state(), renderOptions({ nodeIPs: [lab.nodeIP] }));
    const loaded = await referenceRunner.run(['-f', '-'], full);
    assert.equal(loaded.code, 0, loaded.stderr);
    assert.equal(await normalizedTable(lab.nft()), await normalizedTable(referenceRunner));
  });

  it('a rejected Service keeps its previous rules and is named; the others are applied', async () => {
    const dataplane = new NftablesDataplane({
      render: renderOptions({ nodeIPs: [lab.nodeIP] }),
      runner: lab.nft(),
    });
    const good: ServiceSpec = { id: 'ns/good', clusterIP: '172.30.2.1', endpoints: [endpoint('10.1.2.1')] };
    const victim: ServiceSpec = {
      id: 'ns/victim',
      clusterIP: '172.30.2.2',
      endpoints: [endpoint('10.1.2.2')],
    };
    assert.equal((await dataplane.sync(stateOf(good, victim), new Set())).failed.size, 0);
    // A port above 65535 passes the renderer but nft refuses it: a stand-in for any rule the kernel rejects.
    const broken: ServiceSpec = { ...victim, port: 70000 };
    const moved: ServiceSpec = { ...good, endpoints: [endpoint('10.1.2.9')] };
    const result = await dataplane.sync(stateOf(moved, broken), new Set(['ns/good', 'ns/victim']));
    assert.deepEqual([...result.failed.keys()], ['ns/victim']);
    assert.match(result.failed.get('ns/victim')?.message ?? '', /Service ns\/victim/);
    const listing = (await lab.nft().run(['list', 'table', 'ip', 'kproxy'])).stdout;
    assert.match(listing, /172\.30\.2\.2 \. tcp \. 80 \. 0 : 10\.1\.2\.2 \. 8080/);
    assert.match(listing, /172\.30\.2\.1 \. tcp \. 80 \. 0 : 10\.1\.2\.9 \. 8080/);
  });

  it('a full sync names a Service nft refuses and loads the others', async () => {
    const dataplane = new NftablesDataplane({
      render: renderOptions({ nodeIPs: [lab.nodeIP] }),
      runner: lab.nft(),
    });
    const good: ServiceSpec = {
      id: 'ns/full-good',
      clusterIP: '172.30.4.1',
      endpoints: [endpoint('10.1.4.1')],
    };
    const broken: ServiceSpec = {
      id: 'ns/full-broken',
      clusterIP: '172.30.4.2',
      port: 70000,
      endpoints: [endpoint('10.1.4.2')],
    };
    const result = await dataplane.sync(stateOf(good, broken), new Set());
    assert.deepEqual([...result.failed.keys()], ['ns/full-broken']);
    const listing = (await lab.nft().run(['list', 'table', 'ip', 'kproxy'])).stdout;
    assert.match(listing, /172\.30\.4\.1 \. tcp \. 80/);
    assert.doesNotMatch(listing, /172\.30\.4\.2/);
  });

  it('loads Services whose names carry quotes, newlines and braces, and only their rules', async () => {
    const dataplane = new NftablesDataplane({
      render: renderOptions({ nodeIPs: [lab.nodeIP] }),
      runner: lab.nft(),
    });
    const hostile = ['ns/a"; flush ruleset; #', 'ns/b\n}\ntable ip evil {', `ns/${'long-'.repeat(80)}`];
    const specs = hostile.map((id, i) => ({
      id,
      clusterIP: `172.30.3.${i + 1}`,
      endpoints: [endpoint('10.1.3.1')],
    }));
    const result = await dataplane.sync(stateOf(...specs), new Set());
    assert.equal(result.failed.size, 0, [...result.failed.values()].join('\n'));
    const tables = (await lab.nft().run(['list', 'tables'])).stdout.trim().split('\n');
    assert.deepEqual(tables, ['table ip kproxy']);
    await dataplane.cleanup();
  });

  it('cleanup leaves the namespace as it found it', async () => {
    const runner = lab.nft();
    await runner.run(['-f', '-'], 'add table ip kproxy\ndelete table ip kproxy\n');
    const before = (await runner.run(['list', 'ruleset'])).stdout;
    const dataplane = new NftablesDataplane({ render: renderOptions({ nodeIPs: [lab.nodeIP] }), runner });
    await dataplane.sync(stateOf(...services), new Set());
    assert.notEqual((await runner.run(['list', 'ruleset'])).stdout, before);
    await dataplane.cleanup();
    assert.equal((await runner.run(['list', 'ruleset'])).stdout, before);
  });
});

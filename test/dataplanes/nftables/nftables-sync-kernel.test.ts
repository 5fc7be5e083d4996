import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { type NftRunner, nftRunner } from '../../../src/dataplanes/nftables/nft-runner.js';
import { NftablesDataplane } from '../../../src/dataplanes/nftables/nftables-dataplane.js';
import { renderNftablesTable } from '../../../src/dataplanes/nftables/nftables-renderer.js';
import { endpoint, renderOptions, type ServiceSpec, stateOf } from './fixtures.js';
import { kernelTestOptions, NetnsLab } from './netns-lab.js';

/** `nft -j list table` without handles and with elements sorted: equal tables compare equal. */
async function normalizedTable(runner: NftRunner, family = 'ip'): Promise<string> {
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
    let seed = 7; // a seed whose changes bring new endpoint counts (new pick chains)
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
    await dataplane.sync(
      stateOf(
        { id: 'ns/a', clusterIP: '172.30.5.1', endpoints: [endpoint('10.1.5.1')], nodePort: 30500 },
        { id: 'ns/b', clusterIP: '172.30.5.2', endpoints: [endpoint('10.1.5.2')], affinitySeconds: 60 },
        { id: 'ns/c', clusterIP: '172.30.5.3' },
      ),
      new Set(),
    );
    assert.notEqual((await runner.run(['list', 'ruleset'])).stdout, before);
    await dataplane.cleanup();
    assert.equal((await runner.run(['list', 'ruleset'])).stdout, before);
  });
});

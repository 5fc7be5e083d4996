import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IptablesDataplane } from '../../../src/dataplanes/iptables/iptables-dataplane.js';
import { createNetns, deleteNetns, runChecked } from '../../../src/dataplanes/netns.js';
import { servicePortChainNames } from '../../../src/model/chain-names.js';
import { servicePortId } from '../../../src/model/service.js';
import { parseIptablesRules } from '../../fakes/iptables-restore.js';
import { endpoint, type PortSpec, renderOptions, stateOf } from './fixtures.js';
import { kernelTestsUnavailable, skipReason } from './netns-lab.js';

const skip = skipReason(await kernelTestsUnavailable());
const base = `kp-ipt-${process.pid}-s`;

/** iptables-save of a namespace as table → chain → rules, chains sorted, so creation order does not matter. */
async function kernelRules(netns: string): Promise<Record<string, Record<string, string[]>>> {
  const parsed = parseIptablesRules(await runChecked(['iptables-save'], { netns }));
  const out: Record<string, Record<string, string[]>> = {};
  for (const [table, { chains }] of parsed) {
    out[table] = Object.fromEntries(
      [...chains.entries()]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([name, rules]) => [name, rules.map((r) => r.args.join(' '))]),
    );
  }
  return out;
}

/** A small deterministic PRNG (mulberry32), so a failing sequence can be replayed. */
function prng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomService(random: () => number, index: number): PortSpec {
  const count = Math.floor(random() * 4);
  return {
    namespace: 'ns',
    name: `svc${index}`,
    port: 80,
    clusterIP: `172.30.1.${index}`,
    nodePort: random() < 0.3 ? 30000 + index : undefined,
    externalTrafficPolicy: random() < 0.3 ? 'Local' : 'Cluster',
    sessionAffinity: { type: random() < 0.3 ? 'ClientIP' : 'None', timeoutSeconds: 600 },
    loadBalancerIPs: random() < 0.2 ? [`5.6.7.${index}`] : [],
    loadBalancerSourceRanges: random() < 0.5 ? ['203.0.113.0/24'] : [],
    endpoints: Array.from({ length: count }, (_, i) =>
      endpoint(`10.180.${index}.${i + 1}`, 8080, random() < 0.5),
    ),
  };
}

const options = renderOptions();
const idOf = (spec: PortSpec) => servicePortId(spec.namespace, spec.name, `p${spec.port}`);

describe('iptables syncs against the kernel', { skip }, () => {
  before(async () => {
    for (const suffix of ['a', 'b', 'f', 'p']) await createNetns(`${base}${suffix}`);
  });
  after(async () => {
    for (const suffix of ['a', 'b', 'f', 'p']) await deleteNetns(`${base}${suffix}`);
  });

  test('after 100 random changes applied as partial syncs, the kernel holds what a full render gives', async () => {
    const random = prng(42);
    const services = new Map<number, PortSpec>();
    for (let i = 1; i <= 30; i++) services.set(i, randomService(random, i));
    const partial = new IptablesDataplane({
      families: [options],
      netns: `${base}a`,
      syncPeriodMs: Number.POSITIVE_INFINITY,
    });
    await partial.sync(stateOf(...services.values()), new Set());
    for (let step = 0; step < 100; step++) {
      const index = 1 + Math.floor(random() * 40);
      const previous = services.get(index);
      if (previous && random() < 0.3) services.delete(index);
      else services.set(index, randomService(random, index));
      const changed = new Set([idOf(previous ?? (services.get(index) as PortSpec))]);
      const result = await partial.sync(stateOf(...services.values()), changed);
      assert.equal(result.failed.size, 0);
    }
    assert.equal(partial.counters.partialSyncs, 100);
    const full = new IptablesDataplane({
      families: [options],
      netns: `${base}b`,
      syncPeriodMs: Number.POSITIVE_INFINITY,
    });
    await full.sync(stateOf(...services.values()), new Set());
    assert.deepEqual(await kernelRules(`${base}a`), await kernelRules(`${base}b`));
  });

  test('a rejected restore names the Service, keeps the previous rules, and the next sync is full', async () => {
    const netns = `${base}f`;
    const web: PortSpec = {
      namespace: 'ns',
      name: 'web',
      port: 80,
      clusterIP: '172.30.0.1',
      endpoints: [endpoint('10.180.0.1', 80)],
    };
    const api: PortSpec = {
      namespace: 'ns',
      name: 'api',
      port: 80,
      clusterIP: '172.30.0.2',
      endpoints: [endpoint('10.180.0.2', 80)],
    };
    const dataplane = new IptablesDataplane({
      families: [options],
      netns,
      syncPeriodMs: Number.POSITIVE_INFINITY,
    });
    await dataplane.sync(stateOf(web, api), new Set());
    const before = await kernelRules(netns);
    // Someone else's rule now jumps into api's chain, so the kernel refuses to delete it.
    const apiChain = servicePortChainNames('ns/api:p80', 'TCP').cluster;
    assert.ok(before.nat?.[apiChain]);
    await runChecked(['iptables', '-t', 'nat', '-A', 'OUTPUT', '-p', 'udp', '--dport', '9', '-j', apiChain], {
      netns,
    });
    const withForeignJump = await kernelRules(netns);
    const failed = await dataplane.sync(stateOf(web), new Set(['ns/api:p80']));
    assert.deepEqual([...failed.failed.keys()], ['ns/api:p80']);
    assert.match(failed.failed.get('ns/api:p80')?.message ?? '', /Service port ns\/api:p80/);
    assert.equal(dataplane.counters.failedSyncs, 1);
    assert.deepEqual(await kernelRules(netns), withForeignJump);
    await runChecked(['iptables', '-t', 'nat', '-D', 'OUTPUT', '-p', 'udp', '--dport', '9', '-j', apiChain], {
      netns,
    });
    const retried = await dataplane.sync(stateOf(web), new Set(['ns/web:p80']));
    assert.equal(retried.failed.size, 0);
    assert.equal(dataplane.counters.fullSyncs, 2);
    assert.equal((await kernelRules(netns)).nat?.[apiChain], undefined);
  });

  test('hostile names from manifests load into the kernel as exactly the rules they should be', async () => {
    const names = ['a"b', 'x" -j ACCEPT "y', 'new\nline', 'back\\slash', 'long'.repeat(100), 'üñí'];
    const specs: PortSpec[] = names.map((name, i) => ({
      namespace: 'ns',
      name,
      port: 80,
      clusterIP: `172.30.2.${i + 1}`,
      endpoints: [endpoint(`10.180.2.${i + 1}`, 80)],
    }));
    const dataplane = new IptablesDataplane({
      families: [options],
      netns: `${base}p`,
      syncPeriodMs: Number.POSITIVE_INFINITY,
    });
    const result = await dataplane.sync(stateOf(...specs), new Set());
    assert.equal(result.failed.size, 0);
    const rules = await kernelRules(`${base}p`);
    // One rule per Service plus the node-port jump; nothing else got in.
    assert.equal(rules.nat?.['KUBE-SERVICES']?.length, names.length + 1);
    assert.ok(!JSON.stringify(rules).includes('-j ACCEPT "y'));
    await dataplane.cleanup();
  });

  test('a full sync happens once per syncPeriod, partial syncs in between', async () => {
    let now = 0;
    const dataplane = new IptablesDataplane({
      families: [options],
      netns: `${base}p`,
      syncPeriodMs: 1000,
      now: () => now,
    });
    const web: PortSpec = {
      namespace: 'ns',
      name: 'web',
      port: 80,
      clusterIP: '172.30.0.1',
      endpoints: [endpoint('10.180.0.1', 80)],
    };
    await dataplane.sync(stateOf(web), new Set());
    now = 500;
    await dataplane.sync(stateOf(web), new Set(['ns/web:p80']));
    now = 1500;
    await dataplane.sync(stateOf(web), new Set(['ns/web:p80']));
    assert.deepEqual(dataplane.counters, { fullSyncs: 2, partialSyncs: 1, failedSyncs: 0 });
    // Two full syncs put each jump from a built-in chain in place once, not twice.
    const rules = await kernelRules(`${base}p`);
    assert.equal(rules.nat?.OUTPUT?.filter((rule) => rule.endsWith('-j KUBE-SERVICES')).length, 1);
    assert.equal(rules.filter?.FORWARD?.filter((rule) => rule.endsWith('-j KUBE-FORWARD')).length, 1);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { IptablesBackend } from '../../../src/dataplanes/iptables/applier.js';
import { IptablesDataplane } from '../../../src/dataplanes/iptables/iptables-dataplane.js';
import { renderIptablesRestore } from '../../../src/dataplanes/iptables/render.js';
import { createNetns, deleteNetns, runChecked } from '../../../src/dataplanes/netns.js';
import { parseIptablesRules } from '../../fakes/iptables-restore.js';
import { endpoint, type PortSpec, renderOptions, stateOf } from './fixtures.js';
import { kernelTestsUnavailable, skipReason } from './netns-lab.js';

/** Full syncs write their restore input while the tool runs, own chains declared in sorted order: the kernel must not be able to tell. */

const skip = skipReason(await kernelTestsUnavailable());
const base = `kp-ipt-${process.pid}-st`;
const options = renderOptions();
const builtinChains = new Set(['INPUT', 'OUTPUT', 'FORWARD', 'PREROUTING', 'POSTROUTING']);

function services(generation: number): PortSpec[] {
  return Array.from({ length: 40 }, (_, i) => ({
    namespace: 'ns',
    name: `svc${i}`,
    port: 80,
    clusterIP: `172.30.3.${i + 1}`,
    nodePort: i % 3 === 0 ? 30100 + i : undefined,
    sessionAffinity: { type: i % 4 === 0 ? 'ClientIP' : 'None', timeoutSeconds: 600 },
    endpoints: Array.from({ length: i % 5 }, (_, j) => endpoint(`10.180.3.${10 * j + i + generation}`, 8080)),
  }));
}

/** kproxy's chains (built-in chains left out) as table → chain → rules, sorted by chain. */
async function proxyRules(netns: string, backend: IptablesBackend): Promise<Record<string, string[]>> {
  const saved = await runChecked([`iptables-${backend}-save`], { netns });
  const out: Record<string, string[]> = {};
  for (const [table, { chains }] of parseIptablesRules(saved)) {
    for (const [chain, rules] of [...chains].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (!builtinChains.has(chain)) out[`${table}/${chain}`] = rules.map((rule) => rule.args.join(' '));
    }
  }
  return out;
}

for (const backend of ['legacy', 'nft'] as const) {
  describe(`streamed full syncs (${backend} backend)`, { skip }, () => {
    const netns = (tag: string) => `${base}${backend[0]}${tag}`;
    before(async () => {
      for (const tag of ['s', 'b', 'f']) await createNetns(netns(tag));
    });
    after(async () => {
      for (const tag of ['s', 'b', 'f']) await deleteNetns(netns(tag));
    });
    const dataplaneIn = (tag: string) =>
      new IptablesDataplane({
        families: [options],
        netns: netns(tag),
        syncPeriodMs: Number.POSITIVE_INFINITY,
        backend,
      });

    test('a streamed full sync loads what a bare restore of the rendered text loads', async () => {
      const state = stateOf(...services(0));
      const result = await dataplaneIn('s').sync(state, new Set());
      assert.equal(result.failed.size, 0);
      await runChecked([`iptables-${backend}-restore`, '--noflush'], {
        netns: netns('b'),
        input: renderIptablesRestore(state, options),
      });
      const streamed = await proxyRules(netns('s'), backend);
      assert.ok(Object.keys(streamed).length > 100);
      assert.deepEqual(streamed, await proxyRules(netns('b'), backend));
    });

    test('a full sync rejected midway names the Service of the failing line and leaves the previous rules', async () => {
      const dataplane = dataplaneIn('f');
      await dataplane.sync(stateOf(...services(0)), new Set());
      const previous = await proxyRules(netns('f'), backend);
      // Every endpoint moves, and one Service in the middle has a timeout iptables refuses.
      const next = services(1);
      next[21] = { ...(next[21] as PortSpec), sessionAffinity: { type: 'ClientIP', timeoutSeconds: 0.5 } };
      const result = await dataplane.sync(stateOf(...next), new Set());
      assert.deepEqual([...result.failed.keys()], ['ns/svc21:p80']);
      assert.match(
        result.failed.get('ns/svc21:p80')?.message ?? '',
        /Service port ns\/svc21:p80 at line \d+: .*--seconds 0\.5/,
      );
      assert.deepEqual(await proxyRules(netns('f'), backend), previous);
      const retried = await dataplane.sync(stateOf(...services(1)), new Set());
      assert.equal(retried.failed.size, 0);
      assert.notDeepEqual(await proxyRules(netns('f'), backend), previous);
    });
  });
}

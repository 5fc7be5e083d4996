import assert from 'node:assert/strict';
import { test } from 'node:test';
import { restoreTextOf } from '../../../src/dataplanes/iptables/restore-chunks.js';
import { planSync } from '../../../src/dataplanes/iptables/sync-plan.js';
import { servicePortChainNames } from '../../../src/model/chain-names.js';
import { endpoint, type PortSpec, renderOptions, stateOf } from './fixtures.js';

const options = renderOptions();
const spec = (name: string, ip: string, endpoints: string[]): PortSpec => ({
  namespace: 'ns',
  name,
  port: 80,
  clusterIP: ip,
  endpoints: endpoints.map((e) => endpoint(e, 80)),
});
const a = spec('a', '172.30.0.1', ['10.180.0.1']);
const b = spec('b', '172.30.0.2', ['10.180.0.2']);
const c = spec('c', '172.30.0.3', ['10.180.0.3']);

test('a partial sync writes only the changed port’s chains and edits KUBE-SERVICES in place', () => {
  const first = planSync({ state: stateOf(a, c), options });
  const plan = planSync({
    state: stateOf(a, b, c),
    options,
    applied: first.next(),
    changed: new Set(['ns/b:p80']),
  });
  const restore = restoreTextOf(plan.restore);
  const lines = restore.text.split('\n');
  const svcB = servicePortChainNames('ns/b:p80', 'TCP').cluster;
  assert.ok(lines.includes(`:${svcB} - [0:0]`));
  assert.ok(!lines.some((line) => line.startsWith(':KUBE-SERVICES')), 'KUBE-SERVICES is not rewritten');
  assert.ok(
    !lines.some((line) => line.includes('ns/a:p80') || line.includes('ns/c:p80')),
    'untouched ports are not written',
  );
  // b sorts between a and c: its rule goes in at position 2.
  assert.ok(
    lines.includes(
      `-I KUBE-SERVICES 2 -m comment --comment "ns/b:p80 cluster IP" -m tcp -p tcp -d 172.30.0.2 --dport 80 -j ${svcB}`,
    ),
  );
});

test('removing a port deletes its rule from KUBE-SERVICES before deleting its chains', () => {
  const first = planSync({ state: stateOf(a, b), options });
  const plan = planSync({
    state: stateOf(a),
    options,
    applied: first.next(),
    changed: new Set(['ns/b:p80']),
  });
  const restore = restoreTextOf(plan.restore);
  const lines = restore.text.split('\n');
  const svcB = servicePortChainNames('ns/b:p80', 'TCP').cluster;
  const deleteRule = lines.findIndex(
    (line) => line.startsWith('-D KUBE-SERVICES') && line.endsWith(`-j ${svcB}`),
  );
  const deleteChain = lines.indexOf(`-X ${svcB}`);
  assert.ok(deleteRule >= 0 && deleteChain > deleteRule, restore.text);
  assert.equal(restore.lineOwners[deleteChain + 1], 'ns/b:p80');
});

test('a full sync writes everything and inserts the missing built-in jumps', () => {
  const plan = planSync({
    state: stateOf(a),
    options,
    kernel: {
      serviceChains: new Set(['nat/KUBE-SVC-LEFTOVER0000000']),
      missingJumps: [
        {
          table: 'nat',
          chain: 'OUTPUT',
          args: ['-m', 'comment', '--comment', 'kubernetes service portals', '-j', 'KUBE-SERVICES'],
        },
      ],
    },
  });
  const restore = restoreTextOf(plan.restore);
  const lines = restore.text.split('\n');
  assert.ok(lines.includes(':KUBE-SERVICES - [0:0]'));
  assert.ok(lines.includes('-X KUBE-SVC-LEFTOVER0000000'));
  assert.ok(lines.includes('-I OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'));
});

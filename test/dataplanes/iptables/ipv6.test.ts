import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { IptablesDataplane } from '../../../src/dataplanes/iptables/iptables-dataplane.js';
import { createNetns, deleteNetns, runChecked } from '../../../src/dataplanes/netns.js';
import { endpoint, renderOptions, stateOf } from './fixtures.js';
import { connectMany, kernelTestsUnavailable, podPort, skipReason, startServer } from './netns-lab.js';

const skip = skipReason(await kernelTestsUnavailable());
const netns = `kp-ipt-${process.pid}-v6`;

describe('IPv6 through ip6tables-restore', { skip }, () => {
  let server: ChildProcess | undefined;

  before(async () => {
    await createNetns(netns);
    // The "pod" is an address on the namespace's loopback; the Service range routes there too.
    await runChecked(['ip', '-6', 'addr', 'add', 'fd00:180::1/128', 'dev', 'lo', 'nodad'], { netns });
    await runChecked(['ip', '-6', 'route', 'add', 'fd00:30::/64', 'dev', 'lo'], { netns });
    server = await startServer(netns, 'pod6');
  });

  after(async () => {
    server?.kill();
    await deleteNetns(netns);
  });

  test('a connection to an IPv6 cluster IP reaches the IPv6 endpoint; the IPv4 rules are untouched', async () => {
    const dataplane = new IptablesDataplane({
      families: [renderOptions({ ipFamily: 'IPv6', clusterCIDRs: ['fd00:180::/64'], nodeIPs: ['fd00::2'] })],
      netns,
      syncPeriodMs: 60_000,
    });
    const state = stateOf({
      namespace: 'v6',
      name: 'web',
      port: 80,
      clusterIP: 'fd00:30::10',
      endpoints: [endpoint('fd00:180::1', podPort)],
    });
    assert.equal((await dataplane.sync(state, new Set())).failed.size, 0);
    const result = await connectMany(netns, { host: 'fd00:30::10', port: 80, count: 5 });
    assert.deepEqual(result, { pods: { pod6: 5 }, errors: {} });
    assert.doesNotMatch(await runChecked(['iptables-save'], { netns }), /KUBE-/);
    await dataplane.cleanup();
    assert.doesNotMatch(await runChecked(['ip6tables-save'], { netns }), /KUBE-/);
  });
});

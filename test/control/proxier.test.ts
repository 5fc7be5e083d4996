import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Proxier } from '../../src/control/proxier.js';
import type { Dataplane, SyncResult } from '../../src/dataplanes/dataplane.js';
import type { ProxyState } from '../../src/model/proxy-state.js';
import { FakeClock } from '../fakes/fake-clock.js';
import { service, slice } from './fixtures.js';

class RecordingDataplane implements Dataplane {
  readonly name = 'recording';
  readonly syncs: { state: ProxyState; changed: string[] }[] = [];
  failNext = 0;

  async sync(state: ProxyState, changed: ReadonlySet<string>): Promise<SyncResult> {
    this.syncs.push({ state, changed: [...changed].sort() });
    if (this.failNext > 0) {
      this.failNext--;
      return { failed: new Map([['ns/a:http', new Error('apply failed')]]) };
    }
    return { failed: new Map() };
  }

  async cleanup(): Promise<void> {}
}

function setup() {
  const clock = new FakeClock();
  const dataplane = new RecordingDataplane();
  const failures: string[] = [];
  const proxier = new Proxier({
    nodeName: 'node-a',
    dataplane,
    minSyncPeriodMs: 1000,
    syncPeriodMs: 30_000,
    clock,
    logger: { problem: () => {}, synced: () => {}, syncFailed: (f) => failures.push(...f.keys()) },
  });
  proxier.start();
  return { clock, dataplane, proxier, failures };
}

describe('Proxier', () => {
  it('never syncs before the source has delivered its initial lists', async () => {
    const { clock, dataplane, proxier } = setup();
    proxier.service('ns/a', service('a'));
    await clock.advance(5000);
    assert.equal(dataplane.syncs.length, 0);
    proxier.endpointSlice('ns/a-1', slice('a', [{ ip: '10.0.0.1' }]));
    proxier.synced();
    await clock.advance(0);
    assert.equal(dataplane.syncs.length, 1);
    assert.deepEqual(dataplane.syncs[0]?.changed, [], 'the first sync is a full one');
    assert.equal(dataplane.syncs[0]?.state.servicePorts.get('ns/a:http')?.clusterEndpoints.length, 1);
  });

  it('passes only the changed service ports afterwards, and coalesces a burst', async () => {
    const { clock, dataplane, proxier } = setup();
    proxier.service('ns/a', service('a'));
    proxier.service('ns/b', service('b', { clusterIP: '10.96.0.2' }));
    proxier.synced();
    await clock.advance(0);
    for (let i = 1; i <= 5; i++) proxier.endpointSlice('ns/a-1', slice('a', [{ ip: `10.0.0.${i}` }]));
    await clock.advance(1000);
    assert.equal(dataplane.syncs.length, 2);
    assert.deepEqual(dataplane.syncs[1]?.changed, ['ns/a:http']);
    assert.equal(
      dataplane.syncs[1]?.state.servicePorts.get('ns/a:http')?.clusterEndpoints[0]?.ip,
      '10.0.0.5',
    );
  });

  it('does not sync for a no-op update', async () => {
    const { clock, dataplane, proxier } = setup();
    proxier.service('ns/a', service('a'));
    proxier.synced();
    await clock.advance(0);
    proxier.service('ns/a', service('a'));
    await clock.advance(5000);
    assert.equal(dataplane.syncs.length, 1);
  });

  it('retries with a full sync after the data plane fails', async () => {
    const { clock, dataplane, proxier, failures } = setup();
    proxier.service('ns/a', service('a'));
    proxier.synced();
    await clock.advance(0);
    dataplane.failNext = 1;
    proxier.endpointSlice('ns/a-1', slice('a', [{ ip: '10.0.0.1' }]));
    await clock.advance(1000);
    assert.deepEqual(failures, ['ns/a:http']);
    await clock.advance(1000);
    assert.equal(dataplane.syncs.length, 3);
    assert.deepEqual(dataplane.syncs[2]?.changed, [], 'the retry redoes everything');
  });

  it("follows this node's zone label for topology hints", async () => {
    const { clock, dataplane, proxier } = setup();
    proxier.service('ns/a', service('a'));
    const hinted = slice('a', [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }]);
    for (const [i, e] of (hinted.endpoints ?? []).entries())
      Object.assign(e, { hints: { forZones: [{ name: `z${i}` }] } });
    proxier.endpointSlice('ns/a-1', hinted);
    proxier.node('node-a', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'z1' } },
    });
    proxier.node('node-b', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-b', labels: { 'topology.kubernetes.io/zone': 'z0' } },
    });
    proxier.synced();
    await clock.advance(0);
    const chosen = dataplane.syncs[0]?.state.servicePorts.get('ns/a:http')?.clusterEndpoints.map((e) => e.ip);
    assert.deepEqual(chosen, ['10.0.0.2']);
  });
});

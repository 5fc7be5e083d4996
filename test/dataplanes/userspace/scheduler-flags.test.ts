/**
 * IPVS scheduler flags on the userspace data plane, with real sockets on loopback: every
 * connection comes from 127.0.0.1, each from its own ephemeral source port, so only a scheduler
 * that hashes the port (mh by kube-proxy's default mh-port, sh with sh-port) spreads them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UserspaceDataplane } from '../../../src/dataplanes/userspace/userspace-dataplane.js';
import type { ServicePortState } from '../../../src/model/proxy-state.js';
import { podEndpoint, servicePortState, startTcpPod, stateOf, type TcpPod, tcpExchange } from './helpers.js';

// All 24 on one of three equal pods by chance: 3 × (1/3)^24 ≈ 1e-11.
const CONNECTIONS = 24;

describe('scheduler flags through the userspace proxy (one client IP)', () => {
  let pods: TcpPod[] = [];
  let dataplane: UserspaceDataplane;
  before(async () => {
    pods = await Promise.all(['pod-a', 'pod-b', 'pod-c'].map((name) => startTcpPod(name)));
  });
  after(async () => {
    await Promise.all(pods.map((pod) => pod.kill()));
  });

  /** The pods `CONNECTIONS` connections from 127.0.0.1 reached, after syncing the port as given. */
  async function podsReached(overrides: Partial<ServicePortState>): Promise<Set<string>> {
    await dataplane.sync(
      stateOf(
        servicePortState(
          pods.map((pod) => podEndpoint(pod)),
          overrides,
        ),
      ),
    );
    const port = dataplane.frontends()[0]?.address.port ?? 0;
    const reached = new Set<string>();
    for (let i = 0; i < CONNECTIONS; i++) {
      const reply = await tcpExchange(port, `r${i}`, { localAddress: '127.0.0.1' });
      reached.add(reply.split('|')[0] ?? '');
    }
    return reached;
  }

  const cases: [string, Partial<ServicePortState>, (reached: number) => boolean][] = [
    ['mh with kube-proxy flags (mh-port) spreads over several pods', { scheduler: 'mh' }, (n) => n > 1],
    ['mh with no flags keeps the client on one pod', { scheduler: 'mh', schedulerFlags: [] }, (n) => n === 1],
    ['sh without flags keeps the client on one pod', { scheduler: 'sh' }, (n) => n === 1],
    [
      'sh with sh-port spreads over several pods',
      { scheduler: 'sh', schedulerFlags: ['sh-port'] },
      (n) => n > 1,
    ],
  ];
  for (const [what, overrides, holds] of cases) {
    it(what, async () => {
      dataplane = new UserspaceDataplane({
        scheduler: 'rr',
        listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
      });
      try {
        const reached = await podsReached(overrides);
        assert.ok(holds(reached.size), `reached ${[...reached].join(', ')}`);
      } finally {
        await dataplane.cleanup();
      }
    });
  }

  it('a flag added to a running Service takes effect at the next sync', async () => {
    dataplane = new UserspaceDataplane({
      scheduler: 'sh',
      listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
    });
    try {
      assert.equal((await podsReached({})).size, 1);
      assert.ok((await podsReached({ schedulerFlags: ['sh-port'] })).size > 1);
    } finally {
      await dataplane.cleanup();
    }
  });
});

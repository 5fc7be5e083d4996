import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UserspaceDataplane } from '../../../src/dataplanes/userspace/userspace-dataplane.js';
import { knownSchedulerNames } from '../../../src/schedulers/registry.js';
import {
  countBy,
  eventually,
  type OpenConnection,
  openConnection,
  podEndpoint,
  servicePortState,
  startTcpPod,
  stateOf,
  type TcpPod,
  tcpExchange,
} from './helpers.js';

const CONNECTIONS = 30;

describe('every scheduler through the userspace proxy', () => {
  let pods: TcpPod[] = [];
  before(async () => {
    pods = await Promise.all(['pod-a', 'pod-b', 'pod-c'].map((name) => startTcpPod(name)));
  });
  after(async () => {
    await Promise.all(pods.map((pod) => pod.kill()));
  });

  for (const scheduler of knownSchedulerNames()) {
    it(`${scheduler}: every connection reaches a pod and the counters agree with the pods`, async () => {
      let seed = 1;
      const dataplane = new UserspaceDataplane({
        scheduler,
        listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
        random: () => {
          seed = (seed * 16807) % 2147483647;
          return seed / 2147483647;
        },
      });
      try {
        await dataplane.sync(stateOf(servicePortState(pods.map((pod) => podEndpoint(pod)))));
        const port = dataplane.frontends()[0]?.address.port ?? 0;
        const replies: string[] = [];
        for (let i = 0; i < CONNECTIONS; i++) replies.push(await tcpExchange(port, `r${i}`));
        for (const [i, reply] of replies.entries())
          assert.match(reply, new RegExp(`^pod-[abc]\\|r${i}\\|end$`));
        const seen = countBy(replies.map((reply) => reply.split('|')[0] ?? ''));
        const counted = new Map(
          dataplane
            .backends('default/web:http')
            .filter((backend) => backend.connections > 0)
            .map((backend) => [backend.endpoint.podName ?? '', backend.connections]),
        );
        assert.deepEqual(counted, seen);
      } finally {
        await dataplane.cleanup();
      }
    });
  }

  it('rr gives three pods 10/10/10; lc sends held-open connections to the least loaded pod', async () => {
    const rr = new UserspaceDataplane({
      scheduler: 'rr',
      listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
    });
    const lc = new UserspaceDataplane({
      scheduler: 'lc',
      listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
    });
    const held: OpenConnection[] = [];
    try {
      const state = stateOf(servicePortState(pods.map((pod) => podEndpoint(pod))));
      await rr.sync(state);
      await lc.sync(state);
      const rrPort = rr.frontends()[0]?.address.port ?? 0;
      const replies = await Promise.all(Array.from({ length: 30 }, () => tcpExchange(rrPort, 'x')));
      assert.deepEqual([...countBy(replies.map((r) => r.split('|')[0])).values()], [10, 10, 10]);
      const lcPort = lc.frontends()[0]?.address.port ?? 0;
      for (let i = 0; i < 6; i++) held.push(await openConnection(lcPort));
      assert.deepEqual([...countBy(held.map((c) => c.pod)).values()], [2, 2, 2]);
      const backends = lc.backends('default/web:http');
      await eventually(() => backends.every((b) => b.activeConns === 2));
    } finally {
      for (const connection of held) connection.socket.destroy();
      await rr.cleanup();
      await lc.cleanup();
    }
  });
});

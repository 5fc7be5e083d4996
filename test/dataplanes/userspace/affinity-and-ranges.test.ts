import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UserspaceDataplane } from '../../../src/dataplanes/userspace/userspace-dataplane.js';
import { podEndpoint, servicePortState, startTcpPod, stateOf, type TcpPod, tcpExchange } from './helpers.js';

const loopback = () => ({ host: '127.0.0.1', port: 0 });

async function podsSeen(port: number, localAddress: string, count: number): Promise<Set<string>> {
  const pods = new Set<string>();
  for (let i = 0; i < count; i++)
    pods.add((await tcpExchange(port, 'x', { localAddress })).split('|')[0] ?? '');
  return pods;
}

describe('userspace data plane: session affinity and source ranges', () => {
  let pods: TcpPod[] = [];
  before(async () => {
    pods = await Promise.all(['pod-a', 'pod-b', 'pod-c'].map((name) => startTcpPod(name)));
  });
  after(async () => {
    await Promise.all(pods.map((pod) => pod.kill()));
  });

  it('ClientIP affinity keeps each client on one pod; a removed pod frees its clients', async () => {
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback });
    const sessionAffinity = { type: 'ClientIP' as const, timeoutSeconds: 60 };
    try {
      const endpoints = pods.map((pod) => podEndpoint(pod));
      await dataplane.sync(stateOf(servicePortState(endpoints, { sessionAffinity })));
      const port = dataplane.frontends()[0]?.address.port ?? 0;
      const first = await podsSeen(port, '127.0.0.2', 6);
      const second = await podsSeen(port, '127.0.0.3', 6);
      assert.equal(first.size, 1, 'client 127.0.0.2 stays on one pod');
      assert.equal(second.size, 1, 'client 127.0.0.3 stays on one pod');
      assert.notDeepEqual(first, second, 'rr gives the second client another pod');
      const [stuck] = first;
      const remaining = endpoints.filter((endpoint) => endpoint.podName !== stuck);
      await dataplane.sync(stateOf(servicePortState(remaining, { sessionAffinity })));
      const after = await podsSeen(port, '127.0.0.2', 4);
      assert.equal(after.size, 1);
      assert.ok(!after.has(stuck ?? ''), 'the entry pointing at the removed pod was dropped');
    } finally {
      await dataplane.cleanup();
    }
  });

  it('without affinity, rr moves one client across pods', async () => {
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback });
    try {
      await dataplane.sync(stateOf(servicePortState(pods.map((pod) => podEndpoint(pod)))));
      const port = dataplane.frontends()[0]?.address.port ?? 0;
      assert.equal((await podsSeen(port, '127.0.0.2', 3)).size, 3);
    } finally {
      await dataplane.cleanup();
    }
  });

  it('loadBalancerSourceRanges admit listed sources on the load-balancer IP and refuse others', async () => {
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback });
    try {
      await dataplane.sync(
        stateOf(
          servicePortState([podEndpoint(pods[0] as TcpPod)], {
            loadBalancerIPs: ['203.0.113.7'],
            loadBalancerSourceRanges: ['127.0.0.2/32', '198.51.100.0/24'],
          }),
        ),
      );
      const portOf = (kind: string) => dataplane.frontends().find((f) => f.kind === kind)?.address.port ?? 0;
      const lb = portOf('loadBalancer');
      assert.equal(await tcpExchange(lb, 'in', { localAddress: '127.0.0.2' }), 'pod-a|in|end');
      await assert.rejects(tcpExchange(lb, 'out', { localAddress: '127.0.0.3' }), /ECONNRESET/);
      assert.equal(dataplane.refusedConnections('default/web:http'), 1);
      // The cluster IP is not subject to the ranges.
      assert.equal(
        await tcpExchange(portOf('clusterIP'), 'in', { localAddress: '127.0.0.3' }),
        'pod-a|in|end',
      );
    } finally {
      await dataplane.cleanup();
    }
  });

  it('external traffic uses externalEndpoints (externalTrafficPolicy Local), cluster traffic clusterEndpoints', async () => {
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback });
    try {
      const [a, b] = pods as [TcpPod, TcpPod];
      await dataplane.sync(
        stateOf(
          servicePortState([podEndpoint(a), podEndpoint(b)], {
            externalIPs: ['192.0.2.9'],
            externalTrafficPolicy: 'Local',
            externalEndpoints: [podEndpoint(b)],
          }),
        ),
      );
      const portOf = (kind: string) => dataplane.frontends().find((f) => f.kind === kind)?.address.port ?? 0;
      assert.deepEqual(await podsSeen(portOf('externalIP'), '127.0.0.1', 4), new Set(['pod-b']));
      assert.deepEqual(await podsSeen(portOf('clusterIP'), '127.0.0.1', 4), new Set(['pod-a', 'pod-b']));
    } finally {
      await dataplane.cleanup();
    }
  });
});

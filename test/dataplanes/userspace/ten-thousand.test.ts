import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { UserspaceWorkerPool } from '../../../src/dataplanes/userspace/worker-pool.js';
import { podEndpoint, servicePortState, startTcpPod, stateOf, type TcpPod } from './helpers.js';
import { type FixtureProcess, startFixture } from './processes.js';

const CONNECTIONS = 10_000;

// A proxy holds two descriptors per connection (client and upstream): 20,000 here, the host's
// whole per-process limit. So the proxy runs as two worker processes sharing the listening
// socket, the clients in a child process, and the pods (10,000 descriptors) in this one.
describe('userspace data plane: 10,000 concurrent connections', () => {
  let pods: TcpPod[] = [];
  let clients: FixtureProcess | undefined;
  const pool = new UserspaceWorkerPool({ scheduler: 'rr', workers: 2, frontendAddresses: 'loopback' });
  before(async () => {
    pods = await Promise.all(['pod-a', 'pod-b', 'pod-c'].map((name) => startTcpPod(name)));
  });
  after(async () => {
    await clients?.stop();
    await pool.cleanup();
    await Promise.all(pods.map((pod) => pod.kill()));
  });

  it('carries 10,000 open connections at once, each greeted by its pod, all counted active', async () => {
    const result = await pool.sync(stateOf(servicePortState(pods.map((pod) => podEndpoint(pod)))));
    assert.equal(result.failed.size, 0);
    const port = pool.frontends()[0]?.address.port ?? 0;
    clients = startFixture('many-clients.ts', [String(port), String(CONNECTIONS)]);
    const [, greeted, failed] = await clients.line(/^OPEN (\d+) (\d+)/, 100_000);
    assert.equal(Number(failed), 0);
    assert.equal(Number(greeted), CONNECTIONS);
    assert.equal(
      pods.reduce((sum, pod) => sum + pod.sockets.size, 0),
      CONNECTIONS,
    );
    await pool.collectCounters();
    const backends = pool.backends('default/web:http');
    assert.equal(
      backends.reduce((sum, backend) => sum + backend.activeConns, 0),
      CONNECTIONS,
    );
    // rr in each worker keeps every pod within a few connections of a third.
    for (const backend of backends) assert.ok(Math.abs(backend.activeConns - CONNECTIONS / 3) < 10);
  });
});

import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type FixtureProcess, startFixture } from './processes.js';

const CONNECTIONS = 10_000;

// A proxy holds two descriptors per connection (client and upstream): 20,000 here, the host's
// whole per-process limit. So the proxy runs as two worker processes sharing the listening
// socket, and the pods and the clients (10,000 descriptors each) run in child processes too.
describe('userspace data plane: 10,000 concurrent connections', () => {
  const children: FixtureProcess[] = [];
  after(async () => {
    for (const child of children.reverse()) await child.stop();
  });

  it('carries 10,000 open connections at once, each greeted by its pod, all counted active', async () => {
    const pods = startFixture('pods-process.ts', []);
    children.push(pods);
    const ports = ((await pods.line(/^PODS (.*)$/))[1] ?? '').split(' ');
    const proxy = startFixture('proxy-process.ts', ['2', 'rr', ...ports.map((port) => `127.0.0.1:${port}`)]);
    children.push(proxy);
    const port = (await proxy.line(/^LISTENING (\d+)/))[1] ?? '';
    const clients = startFixture('many-clients.ts', [port, String(CONNECTIONS)]);
    children.push(clients);
    const [, greeted, failed] = await clients.line(/^OPEN (\d+) (\d+)/, 100_000);
    assert.equal(Number(failed), 0);
    assert.equal(Number(greeted), CONNECTIONS);
    pods.send('count');
    assert.equal(Number((await pods.line(/^OPEN (\d+)/))[1]), CONNECTIONS);
    proxy.send('stats');
    const stats = JSON.parse((await proxy.line(/^\{.*/))[0]) as { backends: { activeConns: number }[] };
    assert.equal(
      stats.backends.reduce((sum, backend) => sum + backend.activeConns, 0),
      CONNECTIONS,
    );
    // rr in each worker keeps every pod within a few connections of a third.
    for (const backend of stats.backends) assert.ok(Math.abs(backend.activeConns - CONNECTIONS / 3) < 10);
  });
});

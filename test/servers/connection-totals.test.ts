import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { IptablesDataplane } from '../../src/dataplanes/iptables/iptables-dataplane.js';
import { UserspaceDataplane } from '../../src/dataplanes/userspace/userspace-dataplane.js';
import { connectionTotalsReader } from '../../src/servers/connection-totals.js';
import { EndpointConnectionMetrics } from '../../src/servers/endpoint-connection-metrics.js';
import * as nft from '../dataplanes/nftables/fixtures.js';
import { kernelTestOptions, NetnsLab } from '../dataplanes/nftables/netns-lab.js';
import { closeNet, endpoint, stateOf } from './fixtures.js';

async function scrapeConnections(registry: Registry): Promise<Map<string, number>> {
  const series = new Map<string, number>();
  for (const match of (await registry.metrics()).matchAll(
    /^kproxy_endpoint_connections_total\{service_port="([^"]+)",endpoint="([^"]+)"\} (\d+)$/gm,
  )) {
    series.set(`${match[1]} ${match[2]}`, Number(match[3]));
  }
  return series;
}

function openAndClose(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => socket.end());
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

describe('per-endpoint connection counts from the userspace data plane', () => {
  let pod: Server;
  let podPort = 0;
  const dataplane = new UserspaceDataplane({
    scheduler: 'rr',
    listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
  });
  before(async () => {
    pod = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => pod.listen(0, '127.0.0.1', resolve));
    podPort = (pod.address() as { port: number }).port;
  });
  after(async () => {
    await dataplane.cleanup();
    await closeNet(pod);
  });

  it('counts the connections the proxy sent, read at each scrape', async () => {
    await dataplane.sync(stateOf({ name: 'web', endpoints: [endpoint('127.0.0.1', { port: podPort })] }));
    const frontend = dataplane.frontends()[0]?.address.port ?? 0;
    const registry = new Registry();
    new EndpointConnectionMetrics({
      registry,
      readTotals: connectionTotalsReader(dataplane, { mode: 'userspace' }),
    });
    for (let i = 0; i < 5; i++) await openAndClose(frontend);
    assert.deepEqual(await scrapeConnections(registry), new Map([[`default/web 127.0.0.1:${podPort}`, 5]]));
    await openAndClose(frontend);
    assert.deepEqual(await scrapeConnections(registry), new Map([[`default/web 127.0.0.1:${podPort}`, 6]]));
  });
});

describe('per-endpoint connection counts from iptables counters', kernelTestOptions(), () => {
  const lab = new NetnsLab('ctr');
  const pods = ['10.1.0.1', '10.1.0.2'];
  before(async () => {
    lab.create();
    await lab.startPods(pods, 8080);
  });
  after(() => lab.destroy());

  it("reads each KUBE-SEP rule's packet counter: one per connection", async () => {
    const dataplane = new IptablesDataplane({
      families: [nft.renderOptions({ nodeIPs: [lab.nodeIP] })],
      netns: lab.node,
      wait: true,
      syncPeriodMs: 3_600_000,
    });
    const state = nft.stateOf({
      id: 'ns1/web:http',
      clusterIP: '172.30.0.41',
      endpoints: pods.map((ip) => nft.endpoint(ip)),
    });
    assert.equal((await dataplane.sync(state, new Set())).failed.size, 0);
    const answers = lab.connect('172.30.0.41', 80, 40, lab.clientIPs.slice(0, 4));
    const registry = new Registry();
    new EndpointConnectionMetrics({
      registry,
      readTotals: connectionTotalsReader(dataplane, { mode: 'iptables', netns: lab.node }),
    });
    const expected = new Map(
      pods.map((pod) => [
        `ns1/web:http ${pod}:8080`,
        answers.filter((answer) => answer === `${pod}:8080`).length,
      ]),
    );
    assert.deepEqual(await scrapeConnections(registry), expected);
    assert.equal(
      [...expected.values()].reduce((a, b) => a + b, 0),
      40,
    );
  });
});

import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { buildProxyState } from '../../src/control/build-proxy-state.js';
import { UserspaceDataplane } from '../../src/dataplanes/userspace/userspace-dataplane.js';
import type { EndpointSliceObject, ServiceObject } from '../../src/model/k8s-objects.js';

function service(name: string): ServiceObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: 'default' },
    spec: { clusterIP: '10.96.0.20', ports: [{ name: 'tcp', port: 80 }] },
  };
}

function slice(name: string, hosts: readonly string[], port: number): EndpointSliceObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: `${name}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'tcp', port }],
    endpoints: hosts.map((host) => ({ addresses: [host] })),
  };
}

/** A backend that accepts connections and holds them open, counting them. */
function holdingServer(host: string, port: number): Promise<{ server: Server; held: Socket[] }> {
  const held: Socket[] = [];
  const server = createServer((socket) => {
    held.push(socket);
    socket.on('error', () => {});
  });
  return new Promise((resolve) =>
    server.listen({ host, port, backlog: 2048 }, () => resolve({ server, held })),
  );
}

describe('lc through the userspace proxy', () => {
  const hosts = ['127.0.0.21', '127.0.0.22', '127.0.0.23'];
  const backends: { server: Server; held: Socket[] }[] = [];
  const clients: Socket[] = [];
  let dataplane: UserspaceDataplane;

  before(async () => {
    const first = await holdingServer(hosts[0] ?? '', 0);
    const address = first.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    backends.push(
      first,
      await holdingServer(hosts[1] ?? '', port),
      await holdingServer(hosts[2] ?? '', port),
    );
    dataplane = new UserspaceDataplane({
      scheduler: 'lc',
      listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
    });
    await dataplane.sync(
      buildProxyState({
        services: [service('held')],
        endpointSlices: [slice('held', hosts, port)],
        nodeName: 'n',
      }),
    );
  });

  after(async () => {
    for (const client of clients) client.destroy();
    await dataplane.cleanup();
    for (const { server, held } of backends) {
      for (const socket of held) socket.destroy();
      server.close();
    }
  });

  it('spreads 1000 connections open at once within 5% of even', async () => {
    const frontend = dataplane.frontends()[0]?.address;
    assert.ok(frontend);
    await Promise.all(
      Array.from(
        { length: 1000 },
        () =>
          new Promise<void>((resolve, reject) => {
            const client = connect(frontend.port, frontend.host, () => resolve());
            client.on('error', reject);
            clients.push(client);
          }),
      ),
    );
    const total = () => backends.reduce((sum, backend) => sum + backend.held.length, 0);
    for (let wait = 0; wait < 200 && total() < 1000; wait++) await new Promise((r) => setTimeout(r, 25));
    const counts = backends.map((backend) => backend.held.length);
    assert.equal(total(), 1000);
    for (const count of counts)
      assert.ok(Math.abs(count - 1000 / 3) <= 1000 / 3 / 20, `spread ${counts.join('/')}`);
  });
});

describe('a frontend port already in use', () => {
  it('is reported with its port and Service, and the other Services keep serving', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const address = blocker.address();
    const takenPort = typeof address === 'object' && address ? address.port : 0;
    const backend = await holdingServer('127.0.0.24', 0);
    const backendAddress = backend.server.address();
    const backendPort = typeof backendAddress === 'object' && backendAddress ? backendAddress.port : 0;
    const dataplane = new UserspaceDataplane({
      scheduler: 'rr',
      listenAddress: (port) => ({ host: '127.0.0.1', port: port.name === 'blocked' ? takenPort : 0 }),
    });
    try {
      const result = await dataplane.sync(
        buildProxyState({
          services: [service('blocked'), service('fine')],
          endpointSlices: [
            slice('blocked', ['127.0.0.24'], backendPort),
            slice('fine', ['127.0.0.24'], backendPort),
          ],
          nodeName: 'n',
        }),
      );
      const error = result.failed.get('default/blocked:tcp') as Error & { code?: string };
      assert.equal(error?.code, 'KPROXY_E_PORT_IN_USE');
      assert.match(
        error.message,
        new RegExp(`:${takenPort}: bind: address already in use.*default/blocked:tcp`),
      );
      const fine = dataplane.frontends().find((frontend) => frontend.servicePortId === 'default/fine:tcp');
      assert.ok(fine, 'the other Service is listening');
      await new Promise<void>((resolve, reject) => {
        const client = connect(fine.address.port, fine.address.host);
        client.on('error', reject);
        backend.server.once('connection', () => {
          client.destroy();
          resolve();
        });
      });
    } finally {
      await dataplane.cleanup();
      for (const socket of backend.held) socket.destroy();
      backend.server.close();
      blocker.close();
    }
  });
});

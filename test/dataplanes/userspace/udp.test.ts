import assert from 'node:assert/strict';
import { createSocket, type Socket } from 'node:dgram';
import { after, before, describe, it } from 'node:test';
import { UserspaceDataplane } from '../../../src/dataplanes/userspace/userspace-dataplane.js';
import { eventually, podEndpoint, servicePortState, startUdpPod, stateOf, type UdpPod } from './helpers.js';

async function udpClient(): Promise<Socket> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return socket;
}

function ask(socket: Socket, port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    socket.once('message', (reply) => resolve(reply.toString()));
    socket.send(text, port, '127.0.0.1');
  });
}

describe('userspace data plane: UDP', () => {
  let pods: UdpPod[] = [];
  before(async () => {
    pods = await Promise.all(['pod-a', 'pod-b'].map((name) => startUdpPod(name)));
  });
  after(() => {
    for (const pod of pods) pod.close();
  });

  it('keys flows by client address and port, relays replies, and closes idle flows after udpTimeout', async () => {
    const dataplane = new UserspaceDataplane({
      scheduler: 'rr',
      listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
      udpTimeout: 150,
    });
    const clients = [await udpClient(), await udpClient()];
    try {
      await dataplane.sync(
        stateOf(
          servicePortState(
            pods.map((pod) => podEndpoint(pod)),
            { protocol: 'UDP', id: 'default/dns:dns' },
          ),
        ),
      );
      const frontend = dataplane.frontends()[0];
      assert.equal(frontend?.protocol, 'UDP');
      const port = frontend?.address.port ?? 0;
      const [one, two] = clients as [Socket, Socket];
      const first = await ask(one, port, 'q1');
      const again = await ask(one, port, 'q2');
      const other = await ask(two, port, 'q3');
      assert.match(first, /^pod-[ab]:q1$/);
      assert.equal(again.split(':')[0], first.split(':')[0], 'one flow stays on one pod');
      assert.notEqual(other.split(':')[0], first.split(':')[0], 'a second client port is a new flow (rr)');
      const backends = dataplane.backends('default/dns:dns');
      assert.deepEqual(
        backends.map((b) => [b.connections, b.inactiveConns, b.activeConns]),
        [
          [1, 1, 0],
          [1, 1, 0],
        ],
        'UDP flows count as inactive connections, as in IPVS',
      );
      await eventually(() => backends.every((b) => b.inactiveConns === 0));
      const fresh = await ask(one, port, 'q4');
      assert.match(fresh, /^pod-[ab]:q4$/);
      assert.equal(
        backends.reduce((sum, b) => sum + b.connections, 0),
        3,
        'the idle flow was closed and reopened',
      );
    } finally {
      for (const client of clients) client.close();
      await dataplane.cleanup();
    }
  });

  it('holds back a pod whose port is closed and sends the next datagram elsewhere', async () => {
    const dead = await startUdpPod('pod-dead');
    dead.close();
    const dataplane = new UserspaceDataplane({
      scheduler: 'rr',
      listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
    });
    const client = await udpClient();
    try {
      await dataplane.sync(
        stateOf(
          servicePortState([podEndpoint(dead), podEndpoint(pods[0] as UdpPod)], {
            protocol: 'UDP',
            id: 'default/dns:dns',
          }),
        ),
      );
      const port = dataplane.frontends()[0]?.address.port ?? 0;
      const [deadBackend] = dataplane.backends('default/dns:dns');
      client.send('lost', port, '127.0.0.1');
      await eventually(() => (deadBackend?.failedConnects ?? 0) === 1);
      assert.equal(await ask(client, port, 'retry'), 'pod-a:retry');
    } finally {
      client.close();
      await dataplane.cleanup();
    }
  });
});

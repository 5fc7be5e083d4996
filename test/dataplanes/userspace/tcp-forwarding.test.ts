import assert from 'node:assert/strict';
import { createConnection, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { UserspaceDataplane } from '../../../src/dataplanes/userspace/userspace-dataplane.js';
import { KproxyError } from '../../../src/errors.js';
import {
  countBy,
  echo,
  eventually,
  openConnection,
  podEndpoint,
  servicePortState,
  startTcpPod,
  stateOf,
  type TcpPod,
  tcpExchange,
} from './helpers.js';

const loopback = () => ({ host: '127.0.0.1', port: 0 });

function frontendPort(dataplane: UserspaceDataplane, id = 'default/web:http'): number {
  const frontend = dataplane.frontends().find((f) => f.servicePortId === id);
  assert.ok(frontend, `no frontend for ${id}`);
  return frontend.address.port;
}

describe('userspace data plane: TCP', () => {
  let pods: TcpPod[] = [];
  before(async () => {
    pods = await Promise.all(['pod-a', 'pod-b', 'pod-c'].map((name) => startTcpPod(name)));
  });
  after(async () => {
    await Promise.all(pods.map((pod) => pod.kill()));
  });

  it('forwards both ways and passes a half-close on while the other direction keeps flowing', async () => {
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback });
    try {
      const result = await dataplane.sync(stateOf(servicePortState(pods.map((pod) => podEndpoint(pod)))));
      assert.equal(result.failed.size, 0);
      const replies = await Promise.all(
        [1, 2, 3, 4, 5, 6].map((i) => tcpExchange(frontendPort(dataplane), `hello-${i}`)),
      );
      for (const [i, reply] of replies.entries())
        assert.match(reply, new RegExp(`^pod-[abc]\\|hello-${i + 1}\\|end$`));
      assert.deepEqual(
        [...countBy(replies.map((reply) => reply.split('|')[0])).values()],
        [2, 2, 2],
        'rr spreads six connections two per pod',
      );
      const backends = dataplane.backends('default/web:http');
      await eventually(() => backends.every((b) => b.activeConns === 0));
      for (const backend of backends) {
        assert.equal(backend.connections, 2);
        assert.equal(backend.bytesFromClients, 'hello-1'.length * 2);
        assert.equal(backend.bytesToClients, 'pod-a|'.length * 2 + 'hello-1|end'.length * 2);
      }
    } finally {
      await dataplane.cleanup();
    }
  });

  it('counts a connection active while open and inactive after it closed (IPVS TIME_WAIT)', async () => {
    const dataplane = new UserspaceDataplane({
      scheduler: 'rr',
      listenAddress: loopback,
      tcpFinTimeout: 100,
    });
    try {
      await dataplane.sync(stateOf(servicePortState([podEndpoint(pods[0] as TcpPod)])));
      const open = await openConnection(frontendPort(dataplane));
      const [backend] = dataplane.backends('default/web:http');
      assert.ok(backend);
      assert.equal(backend.activeConns, 1);
      open.socket.end();
      await eventually(() => backend.activeConns === 0 && backend.inactiveConns === 1);
      await eventually(() => backend.inactiveConns === 0);
    } finally {
      await dataplane.cleanup();
    }
  });

  it('closes a connection idle for tcpTimeout, and not one that keeps talking', async () => {
    const tcpTimeout = 400;
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback, tcpTimeout });
    try {
      await dataplane.sync(stateOf(servicePortState(pods.map((pod) => podEndpoint(pod)))));
      const idle = await openConnection(frontendPort(dataplane));
      const talking = await openConnection(frontendPort(dataplane));
      let idleClosed = false;
      let talkingClosed = false;
      // The proxy closing a connection shows as its end (these sockets allow half-open).
      idle.socket.on('end', () => {
        idleClosed = true;
      });
      talking.socket.on('end', () => {
        talkingClosed = true;
      });
      // Talk every quarter of the limit for three limits' time: the idle one must be gone by then.
      for (let i = 1; i <= 12; i++) {
        await new Promise((resolve) => setTimeout(resolve, tcpTimeout / 4));
        assert.equal(await echo(talking.socket, `ping-${i % 10}`), `ping-${i % 10}`);
      }
      assert.ok(idleClosed, 'the idle connection was closed');
      assert.ok(!talkingClosed, 'the talking connection stayed open');
      talking.socket.destroy();
    } finally {
      await dataplane.cleanup();
    }
  });

  it('keeps a half-closed connection while bytes flow, and closes it once idle for tcpFinTimeout', async () => {
    const tcpFinTimeout = 200;
    // After the client's FIN this pod streams a chunk every 50 ms for 3 × tcpFinTimeout, then ends.
    const streaming = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => {});
      socket.resume();
      socket.on('end', () => {
        let sent = 0;
        const timer = setInterval(() => {
          socket.write(`chunk-${sent++};`);
          if (sent === 12) {
            clearInterval(timer);
            socket.end();
          }
        }, 50);
      });
    });
    // This one answers the client's FIN with nothing at all: half-closed and idle.
    const silent = createServer({ allowHalfOpen: true }, (socket) => {
      socket.on('error', () => {});
      socket.resume();
    });
    const listen = async (server: typeof streaming) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const address = server.address();
      return typeof address === 'object' && address ? address.port : 0;
    };
    const streamingPort = await listen(streaming);
    const silentPort = await listen(silent);
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback, tcpFinTimeout });
    const halfClosed = (port: number) =>
      new Promise<string>((resolve) => {
        let text = '';
        const socket = createConnection({ host: '127.0.0.1', port, allowHalfOpen: true }, () => socket.end());
        socket.setEncoding('utf8');
        socket.on('data', (chunk: string) => {
          text += chunk;
        });
        socket.on('error', () => {});
        // The silent one ends only because the proxy closes it.
        socket.on('close', () => resolve(text));
      });
    try {
      await dataplane.sync(
        stateOf(
          servicePortState([podEndpoint({ name: 'streaming', port: streamingPort })], {
            id: 'default/web:stream',
            portName: 'stream',
            port: 81,
          }),
          servicePortState([podEndpoint({ name: 'silent', port: silentPort })], {
            id: 'default/web:silent',
            portName: 'silent',
            port: 82,
          }),
        ),
      );
      const [flowing, idle] = await Promise.all([
        halfClosed(frontendPort(dataplane, 'default/web:stream')),
        halfClosed(frontendPort(dataplane, 'default/web:silent')),
      ]);
      assert.equal(flowing.split(';').filter(Boolean).length, 12, 'every chunk after the FIN arrived');
      assert.equal(idle, '');
    } finally {
      await dataplane.cleanup();
      streaming.close();
      silent.close();
    }
  });

  it('forwards IPv6: a frontend on ::1 to a pod on ::1', async () => {
    const pod = await startTcpPod('pod-v6', '::1');
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', frontendAddresses: 'loopback' });
    try {
      const result = await dataplane.sync(
        stateOf(
          servicePortState([podEndpoint(pod, { ip: '::1' })], {
            id: 'default/web6:http',
            name: 'web6',
            clusterIPs: ['fd00::10'],
          }),
        ),
      );
      assert.equal(result.failed.size, 0);
      const [frontend] = dataplane.frontends();
      assert.equal(frontend?.address.host, '::1');
      assert.equal(
        await tcpExchange(frontend?.address.port ?? 0, 'hello-6', { host: '::1' }),
        'pod-v6|hello-6|end',
      );
    } finally {
      await dataplane.cleanup();
      await pod.kill();
    }
  });

  it('resets clients of a Service without endpoints', async () => {
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback });
    try {
      await dataplane.sync(stateOf(servicePortState([])));
      await assert.rejects(tcpExchange(frontendPort(dataplane), 'x'), /ECONNRESET/);
    } finally {
      await dataplane.cleanup();
    }
  });

  it('gives a terminating endpoint no new connections', async () => {
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback });
    try {
      const [a, b] = pods as [TcpPod, TcpPod];
      await dataplane.sync(
        stateOf(servicePortState([podEndpoint(a), podEndpoint(b, { ready: false, terminating: true })])),
      );
      const replies = await Promise.all([1, 2, 3, 4].map(() => tcpExchange(frontendPort(dataplane), 'x')));
      assert.ok(replies.every((reply) => reply.startsWith('pod-a|')));
    } finally {
      await dataplane.cleanup();
    }
  });

  it('reports a port in use for that Service and serves the others', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as { port: number }).port;
    const dataplane = new UserspaceDataplane({
      scheduler: 'rr',
      listenAddress: (servicePort) => ({
        host: '127.0.0.1',
        port: servicePort.name === 'blocked' ? taken : 0,
      }),
    });
    try {
      const endpoints = [podEndpoint(pods[0] as TcpPod)];
      const blocked = servicePortState(endpoints, { id: 'default/blocked:http', name: 'blocked' });
      const sctp = servicePortState(endpoints, { id: 'default/sctp:s', name: 'sctp', protocol: 'SCTP' });
      const result = await dataplane.sync(stateOf(servicePortState(endpoints), blocked, sctp));
      const error = result.failed.get('default/blocked:http');
      assert.ok(error instanceof KproxyError);
      assert.equal(error.code, 'KPROXY_E_PORT_IN_USE');
      assert.match(error.message, new RegExp(`:${taken}\\b.*default/blocked:http`));
      const sctpError = result.failed.get('default/sctp:s');
      assert.ok(sctpError instanceof KproxyError);
      assert.equal(sctpError.code, 'KPROXY_E_UNSUPPORTED_PROTOCOL');
      assert.equal(result.failed.size, 2);
      assert.equal(await tcpExchange(frontendPort(dataplane), 'ok'), 'pod-a|ok|end');
    } finally {
      await dataplane.cleanup();
      squatter.close();
    }
  });

  it('a scheduler annotation change takes effect on the same frontend', async () => {
    const dataplane = new UserspaceDataplane({
      scheduler: 'rr',
      listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
    });
    try {
      const endpoints = pods.map((pod) => podEndpoint(pod));
      await dataplane.sync(stateOf(servicePortState(endpoints)));
      const result = await dataplane.sync(stateOf(servicePortState(endpoints, { scheduler: 'sh' })));
      assert.equal(result.failed.size, 0);
      const port = frontendPort(dataplane);
      const replies = await Promise.all([1, 2, 3, 4].map(() => tcpExchange(port, 'x')));
      assert.equal(new Set(replies).size, 1, 'sh sends one client address to one pod');
    } finally {
      await dataplane.cleanup();
    }
  });
});

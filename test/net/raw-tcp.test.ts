import assert from 'node:assert/strict';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { acceptTcp, connectTcp, type TcpConnection } from '../../src/net/raw-tcp.js';
import { eventually } from '../dataplanes/userspace/helpers.js';

/** A listening server whose accepted connections come as TcpConnections. */
async function rawServer(
  onConnection: (connection: TcpConnection) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  acceptTcp(server, onConnection, () => {});
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : 0 };
}

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Everything the peer sends until it closes, and how it closed. */
function received(socket: Socket): Promise<{ text: string; reset: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    let reset = false;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      reset = error.code === 'ECONNRESET';
    });
    // The client is half-open capable: answer the peer's FIN with ours, or it never closes.
    socket.on('end', () => socket.end());
    socket.on('close', () => resolve({ text, reset }));
  });
}

describe('raw TCP connections', () => {
  const servers: Server[] = [];
  after(() => {
    for (const server of servers) server.close();
  });

  it('reads, writes, half-closes with a FIN and keeps reading after it', async () => {
    const got: string[] = [];
    let peerEnded = false;
    const { server, port } = await rawServer((connection) => {
      connection.read({
        data: (chunk) => {
          got.push(Buffer.from(chunk).toString());
          connection.write(chunk, () => {});
        },
        end: () => {
          peerEnded = true;
          connection.close();
        },
      });
    });
    servers.push(server);
    const client = await connected(port);
    const reply = received(client);
    client.write('hello');
    await eventually(() => got.length > 0);
    client.end();
    const { text, reset } = await reply;
    assert.equal(text, 'hello');
    assert.equal(reset, false);
    assert.equal(peerEnded, true);
  });

  it('sends its FIN only after the writes queued before it', async () => {
    const big = Buffer.alloc(8 * 1024 * 1024, 'x');
    let wentAsync = false;
    const { server, port } = await rawServer((connection) => {
      wentAsync = !connection.write(big, () => {});
      connection.end(() => connection.close());
    });
    servers.push(server);
    const client = await connected(port);
    const { text } = await received(client);
    assert.equal(wentAsync, true, 'an 8 MiB write cannot complete at once on loopback');
    assert.equal(text.length, big.length);
  });

  it('resets a connection, and after its own FIN just closes it (the descriptor is released either way)', async () => {
    const closed: string[] = [];
    let count = 0;
    const { server, port } = await rawServer((connection) => {
      const which = count++ === 0 ? 'reset' : 'fin-then-reset';
      connection.onClose(() => closed.push(which));
      if (which === 'reset') connection.reset();
      else {
        connection.write(new TextEncoder().encode('bye'), () => {});
        connection.end(() => {});
        connection.reset();
      }
    });
    servers.push(server);
    // The reset may arrive before Node reports the connection: read from the start.
    const first = await received(connect({ port, host: '127.0.0.1', allowHalfOpen: true }));
    assert.equal(first.reset, true);
    const second = await received(connect({ port, host: '127.0.0.1', allowHalfOpen: true }));
    assert.equal(second.text, 'bye');
    assert.equal(second.reset, false);
    await eventually(() => closed.length === 2);
  });

  it('tells close listeners of the end at once and only once, and a late listener at once', async () => {
    const heard: string[] = [];
    let heardWhenClosed: string[] = [];
    const { server, port } = await rawServer((connection) => {
      connection.onClose(() => heard.push('before'));
      connection.close();
      connection.close();
      connection.reset();
      connection.onClose(() => heard.push('after'));
      heardWhenClosed = [...heard];
    });
    servers.push(server);
    await received(connect({ port, host: '127.0.0.1', allowHalfOpen: true }));
    assert.deepEqual(heardWhenClosed, ['before', 'after']);
    assert.deepEqual(heard, ['before', 'after']);
  });

  it('connects from a given local address, and reports the peer address', async () => {
    const peers: string[] = [];
    const { server, port } = await rawServer((connection) => {
      peers.push(connection.peer().address);
      connection.close();
    });
    servers.push(server);
    const result = await new Promise<TcpConnection | string>((resolve) =>
      connectTcp({ host: '127.0.0.1', port, localAddress: '127.0.0.7' }, resolve),
    );
    assert.equal(typeof result, 'object');
    if (typeof result === 'object') result.close();
    await eventually(() => peers.length === 1);
    assert.deepEqual(peers, ['127.0.0.7']);
  });

  it('names a read that fails when the peer resets', async () => {
    const failures: string[] = [];
    const { server, port } = await rawServer((connection) =>
      connection.read({ data: () => {}, end: () => {}, failed: (code) => failures.push(code) }),
    );
    servers.push(server);
    const client = await connected(port);
    client.resetAndDestroy();
    await eventually(() => failures.length === 1);
    assert.deepEqual(failures, ['ECONNRESET']);
  });

  it('connects, and names a refused or cancelled connect', async () => {
    const { server, port } = await rawServer((connection) => connection.close());
    servers.push(server);
    const outcome = (host: string, p: number, cancel = false) =>
      new Promise<string>((resolve) => {
        const attempt = connectTcp({ host, port: p }, (result) => {
          if (typeof result === 'string') resolve(result);
          else {
            result.close();
            resolve('connected');
          }
        });
        if (cancel) attempt.cancel();
      });
    assert.equal(await outcome('127.0.0.1', port), 'connected');
    const closedPort = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
      });
    });
    assert.equal(await outcome('127.0.0.1', closedPort), 'ECONNREFUSED');
    assert.equal(await outcome('::1', closedPort), 'ECONNREFUSED');
    assert.equal(await outcome('127.0.0.1', port, true), 'ECANCELED');
  });
});

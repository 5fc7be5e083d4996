/**
 * The load generator behind `kproxy bench` and `kproxy lab`, against small loopback servers that
 * answer in the ways ab users meet: new connections or kept-alive ones, servers that close, reset,
 * or never answer, and clients spread over several local addresses.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import { type LoadOptions, runLoad } from '../../src/lab/load/load-generator.js';
import { summarizeLoad } from '../../src/lab/load/summarize.js';
import { runLoadThreaded } from '../../src/lab/load/threaded-load.js';

/** How a test server answers request `n` (1, 2, …) of the run on `socket`. */
type Answer = (socket: Socket, n: number, head: string) => void;

interface TestServer {
  readonly url: URL;
  readonly port: number;
  /** Connections accepted, and the client address of each. */
  readonly clients: string[];
  /** Request heads received, in order. */
  readonly heads: string[];
}

const servers: Server[] = [];
after(() => {
  for (const server of servers) server.close();
});

async function serve(answer: Answer): Promise<TestServer> {
  const state = { clients: [] as string[], heads: [] as string[] };
  const server = createServer((socket) => {
    state.clients.push(socket.remoteAddress ?? '');
    socket.on('error', () => {});
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        const head = buffered.slice(0, end);
        buffered = buffered.slice(end + 4);
        state.heads.push(head);
        answer(socket, state.heads.length, head);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { ...state, port, url: new URL(`http://127.0.0.1:${port}/`) };
}

function response(body: string, headers: readonly string[] = []): string {
  return ['HTTP/1.0 200 OK', 'Server: test', ...headers, `Content-Length: ${body.length}`, '', body].join(
    '\r\n',
  );
}

/** Answers every request; keeps the connection open only when the client asked for it. */
const polite: Answer = (socket, _n, head) => {
  if (/connection: keep-alive/i.test(head)) socket.write(response('hello', ['Connection: keep-alive']));
  else socket.end(response('hello'));
};

function load(options: Partial<LoadOptions> & { url: URL }) {
  return runLoad({ requests: 10, concurrency: 2, keepAlive: false, timeoutMs: 5_000, ...options });
}

const failures = (run: Awaited<ReturnType<typeof load>>) => run.samples.map((sample) => sample.failure);

describe('load generator', () => {
  test('a new connection per request; with keep-alive, one per slot while the responses allow it', async () => {
    const server = await serve(polite);
    const fresh = await load({ url: server.url });
    assert.equal(server.clients.length, 10);
    assert.deepEqual(failures(fresh), new Array(10).fill(undefined));
    assert.ok(fresh.samples.every((sample) => !sample.reusedConnection && sample.bodyBytes === 5));
    const kept = await load({ url: server.url, keepAlive: true });
    assert.equal(server.clients.length, 12);
    assert.equal(kept.samples.filter((sample) => sample.reusedConnection).length, 8);

    // Asked for keep-alive, answered without it (or without a length): a new connection each time,
    // even when the server would have kept the connection open.
    const refusing = await serve((socket) => socket.write(response('no')));
    await load({ url: refusing.url, keepAlive: true });
    assert.equal(refusing.clients.length, 10);
    const unsized = await serve((socket) =>
      socket.end('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nall'),
    );
    const untilClose = await load({ url: unsized.url, keepAlive: true });
    assert.equal(unsized.clients.length, 10);
    assert.ok(untilClose.samples.every((sample) => sample.bodyBytes === 3 && !sample.failure));
  });

  test('a server that closes its kept-alive connections: the request goes again on a new one, as ab', async () => {
    const answered = new WeakSet<Socket>();
    const server = await serve((socket) => {
      if (answered.has(socket)) return;
      answered.add(socket);
      socket.end(response('once', ['Connection: keep-alive']));
    });
    const run = await load({ url: server.url, concurrency: 1, keepAlive: true });
    assert.deepEqual(failures(run), new Array(10).fill(undefined));
    assert.equal(server.clients.length, 10);
  });

  test('failures in ab’s classes: connect, receive, exception (timeout); a length apart', async () => {
    const closed = await serve(() => {});
    servers.pop()?.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(failures(await load({ url: closed.url, requests: 3 })), [
      'connect',
      'connect',
      'connect',
    ]);

    const resetting = await serve((socket) => socket.resetAndDestroy());
    assert.deepEqual(failures(await load({ url: resetting.url, requests: 3 })), [
      'receive',
      'receive',
      'receive',
    ]);
    const hangingUp = await serve((socket) => socket.end());
    assert.deepEqual(failures(await load({ url: hangingUp.url, requests: 2 })), ['receive', 'receive']);

    const silent = await serve(() => {});
    const timedOut = await load({ url: silent.url, requests: 3, concurrency: 3, timeoutMs: 100 });
    assert.deepEqual(failures(timedOut), ['exception', 'exception', 'exception']);

    const uneven = await serve((socket, n) => socket.end(response(n % 2 === 0 ? 'longer' : 'short')));
    const summary = summarizeLoad(await load({ url: uneven.url, requests: 4, concurrency: 1 }));
    assert.equal(summary.failures.length, 2);
    assert.equal(summary.failedRequests, 2);
    assert.equal(summary.realFailures, 0);
  });

  test('without -r the first receive error stops the run and is named', async () => {
    const server = await serve((socket, n) =>
      n === 3 ? socket.resetAndDestroy() : socket.end(response('ok')),
    );
    const run = await load({ url: server.url, requests: 50, concurrency: 1, stopOnReceiveError: true });
    assert.equal(run.samples.length, 2);
    assert.deepEqual(run.receiveError, {
      code: 'ECONNRESET',
      errno: 104,
      message: 'Connection reset by peer',
      completed: 2,
    });
  });

  test('spreads connections over local addresses; resolves a host name; -X sends to the proxy; HEAD ends with the head', async () => {
    const server = await serve(polite);
    const localAddresses = ['127.0.0.5', '127.0.0.6'];
    const spread = await load({ url: server.url, requests: 4, concurrency: 1, localAddresses });
    assert.deepEqual(server.clients, ['127.0.0.5', '127.0.0.6', '127.0.0.5', '127.0.0.6']);
    assert.deepEqual(
      spread.samples.map((sample) => sample.clientAddress),
      server.clients,
    );

    const named = await load({ url: new URL(`http://localhost:${server.port}/`), requests: 2 });
    assert.deepEqual(failures(named), [undefined, undefined], 'a host name is resolved');

    const target = new URL('http://pods.example:8080/x');
    await load({
      url: target,
      requests: 1,
      proxy: { host: '127.0.0.1', port: server.port },
      absoluteUri: true,
    });
    assert.match(server.heads.at(-1) ?? '', /^GET http:\/\/pods\.example:8080\/x HTTP\/1\.0\r\n/);

    const heads = await serve((socket) =>
      socket.write('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 100\r\n\r\n'),
    );
    const head = await load({ url: heads.url, method: 'HEAD', keepAlive: true, requests: 4, concurrency: 1 });
    assert.deepEqual(failures(head), [undefined, undefined, undefined, undefined]);
    assert.equal(heads.clients.length, 1);
  });

  test('progress counts every request; an abort ends the run with the requests in flight dropped', async () => {
    const server = await serve(polite);
    const seen: number[] = [];
    await load({ url: server.url, requests: 5, concurrency: 1, onProgress: (done) => seen.push(done) });
    assert.deepEqual(seen, [1, 2, 3, 4, 5]);

    const silent = await serve(() => {});
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const aborted = await load({ url: silent.url, requests: 5, signal: abort.signal });
    assert.equal(aborted.samples.length, 0);
  });

  test('worker threads share the requests and send them all', async () => {
    const server = await serve(polite);
    const run = await runLoadThreaded({ url: server.url, requests: 40, concurrency: 4, keepAlive: false }, 2);
    assert.equal(run.samples.length, 40);
    assert.equal(server.heads.length, 40);
    assert.ok(run.samples.every((sample) => sample.status === 200));
  });
});

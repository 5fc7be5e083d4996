import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { echo, startTcpPod, type TcpPod, tcpExchange } from './helpers.js';
import { type FixtureProcess, startFixture } from './processes.js';

const DESCRIPTOR_LIMIT = 80;
const CLIENTS = 150;

/** Opens a connection and resolves with whether the pod's greeting came through before it closed. */
function tryConnection(port: number, sockets: Socket[]): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setEncoding('utf8');
    sockets.push(socket);
    socket.once('data', () => resolve(true));
    socket.once('close', () => resolve(false));
    socket.on('error', () => {});
  });
}

describe('userspace data plane out of file descriptors', () => {
  let pod: TcpPod | undefined;
  let proxy: FixtureProcess | undefined;
  before(async () => {
    pod = await startTcpPod('pod-a');
  });
  after(async () => {
    await proxy?.stop();
    await pod?.kill();
  });

  it('keeps running and serving open connections, and serves again once descriptors free up', async () => {
    proxy = startFixture(
      'proxy-process.ts',
      ['0', 'rr', `127.0.0.1:${pod?.port}`],
      ['sh', '-c', `ulimit -n ${DESCRIPTOR_LIMIT} && exec "$@"`, 'sh'],
    );
    const port = Number((await proxy.line(/^LISTENING (\d+)/))[1]);
    const sockets: Socket[] = [];
    const outcomes = await Promise.all(Array.from({ length: CLIENTS }, () => tryConnection(port, sockets)));
    const served = outcomes.filter(Boolean).length;
    assert.ok(
      served > 0 && served < CLIENTS,
      `${served} of ${CLIENTS} served under a limit of ${DESCRIPTOR_LIMIT}`,
    );
    proxy.send('stats');
    await proxy.line(/^\{.*/);
    assert.equal(proxy.child.exitCode, null, 'the proxy is still running');
    const survivor = sockets.find((_, i) => outcomes[i]);
    assert.ok(survivor);
    assert.equal(await echo(survivor, 'still-open'), 'still-open');
    for (const socket of sockets) socket.destroy();
    let reply = '';
    for (let attempt = 0; attempt < 50 && reply === ''; attempt++) {
      reply = await tcpExchange(port, 'again').catch(() => '');
      if (reply === '') await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(reply, 'pod-a|again|end');
  });
});

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { UserspaceDataplane } from '../../../src/dataplanes/userspace/userspace-dataplane.js';
import {
  countBy,
  echo,
  eventually,
  type OpenConnection,
  openConnection,
  podEndpoint,
  servicePortState,
  startTcpPod,
  stateOf,
  tcpExchange,
} from './helpers.js';

const loopback = () => ({ host: '127.0.0.1', port: 0 });

describe('userspace data plane: failures and changes without loss', () => {
  it('a pod killed mid-run fails only its own connections; new ones all succeed', async () => {
    const pods = await Promise.all(['pod-a', 'pod-b', 'pod-c'].map((name) => startTcpPod(name)));
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback });
    const open: OpenConnection[] = [];
    try {
      await dataplane.sync(stateOf(servicePortState(pods.map((pod) => podEndpoint(pod)))));
      const port = dataplane.frontends()[0]?.address.port ?? 0;
      for (let i = 0; i < 6; i++) open.push(await openConnection(port));
      const closedByKill = open.filter((c) => c.pod === 'pod-b');
      const ended = closedByKill.map(
        (c) => new Promise<string>((resolve) => c.socket.once('close', () => resolve(c.pod))),
      );
      await pods[1]?.kill();
      assert.deepEqual(await Promise.all(ended), ['pod-b', 'pod-b']);
      for (const survivor of open.filter((c) => c.pod !== 'pod-b')) {
        assert.equal(await echo(survivor.socket, 'still-here'), 'still-here');
      }
      // The state still lists pod-b (control has not noticed): the proxy must route around it.
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => tcpExchange(port, `n${i}`)));
      assert.ok(replies.every((reply) => /^pod-[ac]\|n\d+\|end$/.test(reply)));
      const podB = dataplane.backends('default/web:http').find((b) => b.endpoint.podName === 'pod-b');
      assert.ok(podB && podB.failedConnects >= 1, 'the refused connect was counted');
    } finally {
      for (const c of open) c.socket.destroy();
      await dataplane.cleanup();
      await Promise.all([pods[0]?.kill(), pods[2]?.kill()]);
    }
  });

  it('an endpoint removed by a sync keeps its open connections; new ones go elsewhere', async () => {
    const pods = await Promise.all(['pod-a', 'pod-b'].map((name) => startTcpPod(name)));
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback });
    const open: OpenConnection[] = [];
    try {
      const [a, b] = pods as [(typeof pods)[0], (typeof pods)[0]];
      await dataplane.sync(stateOf(servicePortState([podEndpoint(a), podEndpoint(b)])));
      const port = dataplane.frontends()[0]?.address.port ?? 0;
      for (let i = 0; i < 4; i++) open.push(await openConnection(port));
      const removedBackend = dataplane
        .backends('default/web:http')
        .find((x) => x.endpoint.podName === 'pod-b');
      await dataplane.sync(stateOf(servicePortState([podEndpoint(a)])));
      for (const connection of open) assert.equal(await echo(connection.socket, 'on'), 'on');
      const replies = await Promise.all(Array.from({ length: 6 }, () => tcpExchange(port, 'x')));
      assert.deepEqual([...countBy(replies.map((r) => r.split('|')[0])).keys()], ['pod-a']);
      assert.equal(removedBackend?.activeConns, 2, 'its connections are still counted until they close');
      for (const connection of open) connection.socket.end();
      await eventually(() => removedBackend?.activeConns === 0);
    } finally {
      for (const c of open) c.socket.destroy();
      await dataplane.cleanup();
      await Promise.all(pods.map((pod) => pod.kill()));
    }
  });

  it('resets the client when no endpoint accepts, after a bounded number of tries', async () => {
    const pods = await Promise.all(['pod-a', 'pod-b', 'pod-c', 'pod-d'].map((name) => startTcpPod(name)));
    await Promise.all(pods.map((pod) => pod.kill()));
    const dataplane = new UserspaceDataplane({
      scheduler: 'rr',
      listenAddress: loopback,
      maxConnectAttempts: 3,
    });
    try {
      await dataplane.sync(stateOf(servicePortState(pods.map((pod) => podEndpoint(pod)))));
      const port = dataplane.frontends()[0]?.address.port ?? 0;
      await assert.rejects(tcpExchange(port, 'x'), /ECONNRESET/);
      const failures = dataplane.backends('default/web:http').map((b) => b.failedConnects);
      assert.equal(
        failures.reduce((sum, n) => sum + n, 0),
        3,
      );
    } finally {
      await dataplane.cleanup();
    }
  });

  it('gives up a connect that does not complete in connectTimeoutMs and tries the next endpoint', {
    timeout: 20_000,
  }, async () => {
    // A stopped process whose accept queue (backlog 1) is full: the kernel drops further SYNs, so
    // a connect to it neither succeeds nor fails.
    const stuck = spawn(
      process.execPath,
      [
        '-e',
        "require('net').createServer().listen({ host: '127.0.0.1', port: 0, backlog: 1 }, function () { console.log(this.address().port) })",
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const fillers: Socket[] = [];
    const pod = await startTcpPod('pod-a');
    const dataplane = new UserspaceDataplane({
      scheduler: 'rr',
      listenAddress: loopback,
      connectTimeoutMs: 300,
    });
    try {
      const [portLine] = (await once(stuck.stdout, 'data')) as [Buffer];
      const stuckPort = Number(portLine.toString().trim());
      stuck.kill('SIGSTOP');
      for (let i = 0; i < 3; i++) fillers.push(connect(stuckPort, '127.0.0.1').on('error', () => {}));
      await new Promise((resolve) => setTimeout(resolve, 200));
      // rr takes the first endpoint first: the stuck one.
      const endpoints = [podEndpoint({ name: 'stuck', port: stuckPort }), podEndpoint(pod)];
      await dataplane.sync(stateOf(servicePortState(endpoints)));
      const port = dataplane.frontends()[0]?.address.port ?? 0;
      assert.equal(await tcpExchange(port, 'x'), 'pod-a|x|end');
      const stuckBackend = dataplane.backends('default/web:http').find((b) => b.endpoint.podName === 'stuck');
      assert.equal(stuckBackend?.failedConnects, 1);
      assert.equal(stuckBackend?.inactiveConns, 0, 'the abandoned connect is not counted');
    } finally {
      for (const filler of fillers) filler.destroy();
      stuck.kill('SIGKILL');
      await dataplane.cleanup();
      await pod.kill();
    }
  });

  it('a Service removed by a sync stops accepting at once while its open connections run on', async () => {
    const pod = await startTcpPod('pod-a');
    const dataplane = new UserspaceDataplane({ scheduler: 'rr', listenAddress: loopback });
    let open: OpenConnection | undefined;
    try {
      await dataplane.sync(stateOf(servicePortState([podEndpoint(pod)])));
      const port = dataplane.frontends()[0]?.address.port ?? 0;
      open = await openConnection(port);
      await dataplane.sync(stateOf());
      assert.deepEqual(dataplane.frontends(), []);
      await assert.rejects(tcpExchange(port, 'x'), /ECONNREFUSED/);
      assert.equal(await echo(open.socket, 'still'), 'still');
    } finally {
      open?.socket.destroy();
      await dataplane.cleanup();
      await pod.kill();
    }
  });
});

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { KproxyError } from '../../src/errors.js';
import { parseBindAddress } from '../../src/servers/bind-address.js';
import { DaemonServers } from '../../src/servers/daemon-servers.js';
import { captureStderr, closeNet, endpoint, eventually, freePort, stateOf } from './fixtures.js';

describe('daemon servers as the sync runner drives them', () => {
  it('reflects queued changes and syncs in healthz, metrics and health-check ports, and stops them all', async () => {
    let clock = 1_700_000_000_000;
    const servers = await DaemonServers.start({
      mode: 'iptables',
      nodeName: 'node-a',
      healthzBindAddress: '127.0.0.1:0',
      metricsBindAddress: '127.0.0.1:0',
      syncPeriodSeconds: 30,
      healthCheckHosts: ['127.0.0.1'],
      now: () => clock,
    });
    const healthz = `http://127.0.0.1:${servers.healthzAddress?.port}/healthz`;
    const metrics = `http://127.0.0.1:${servers.metricsAddress?.port}/metrics`;
    const hcPort = await freePort();
    try {
      servers.changeQueued('service', 'default/web');
      servers.changeQueued('service', 'default/web');
      servers.changeQueued('endpointSlice', 'default/web-x7k2p');
      const queued = await (await fetch(metrics)).text();
      assert.match(queued, /^kubeproxy_sync_proxy_rules_service_changes_pending 1$/m, 'one Service pending');
      assert.match(queued, /^kubeproxy_sync_proxy_rules_service_changes_total 2$/m, 'two changes seen');
      assert.match(queued, /^kubeproxy_sync_proxy_rules_endpoint_changes_pending 1$/m);
      clock += 61_000;
      assert.equal((await fetch(healthz)).status, 503, 'a change waiting longer than 2 × syncPeriod');

      const state = stateOf({
        name: 'web',
        endpoints: [endpoint('10.1.0.1', { local: true })],
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: hcPort,
      });
      await servers.syncFinished({
        state,
        durationSeconds: 0.02,
        full: true,
        succeeded: true,
      });
      assert.equal((await fetch(healthz)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${hcPort}/`)).status, 200);
      servers.connections.add('default/web', '10.1.0.1:8080', 3);

      const text = await (await fetch(metrics)).text();
      assert.match(text, /^kubeproxy_sync_proxy_rules_last_timestamp_seconds 1700000061$/m);
      assert.match(text, /^kubeproxy_sync_proxy_rules_service_changes_pending 0$/m);
      assert.match(text, /^kubeproxy_proxy_healthz_total\{code="503"\} 1$/m);
      assert.match(
        text,
        /^kproxy_endpoint_connections_total\{service_port="default\/web",endpoint="10.1.0.1:8080"\} 3$/m,
      );
      assert.match(text, /^kproxy_health_check_node_ports\{state="serving"\} 1$/m);
    } finally {
      await servers.stop();
    }
    for (const url of [healthz, metrics, `http://127.0.0.1:${hcPort}/`]) {
      await assert.rejects(fetch(url), TypeError, `${url} still answers after stop`);
    }
  });

  it('with bindAddressHardFail, refuses to start when the healthz port is taken, naming it', async () => {
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      await assert.rejects(
        DaemonServers.start({
          mode: 'nftables',
          nodeName: 'node-a',
          healthzBindAddress: `127.0.0.1:${port}`,
          metricsBindAddress: '127.0.0.1:0',
          bindAddressHardFail: true,
          syncPeriodSeconds: 30,
        }),
        (error: unknown) =>
          error instanceof KproxyError &&
          error.code === 'KPROXY_E_PORT_IN_USE' &&
          error.message.includes(`:${port}`) &&
          error.message.includes('healthzBindAddress'),
      );
    } finally {
      await closeNet(blocker);
    }
  });

  it('otherwise logs a taken healthz port, serves metrics, and takes the port once it is free', async () => {
    const port = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    const { result: servers, lines } = await captureStderr(() =>
      DaemonServers.start({
        mode: 'iptables',
        nodeName: 'node-a',
        healthzBindAddress: `127.0.0.1:${port}`,
        metricsBindAddress: '127.0.0.1:0',
        bindRetryMs: 20,
        syncPeriodSeconds: 30,
      }),
    );
    try {
      assert.equal(servers.healthzAddress, undefined);
      const error = lines.find((line) =>
        line.includes('"Failed to start the healthzBindAddress server; retrying"'),
      );
      assert.ok(error?.includes(`bind: address already in use`), lines.join('\n'));
      assert.equal((await fetch(`http://127.0.0.1:${servers.metricsAddress?.port}/healthz`)).status, 200);
      await closeNet(blocker);
      await captureStderr(() => eventually(() => servers.healthzAddress !== undefined));
      assert.equal((await fetch(`http://127.0.0.1:${port}/livez`)).status, 200);
    } finally {
      await servers.stop();
    }
  });
});

describe('bind addresses', () => {
  const table = [
    { text: '', host: '0.0.0.0', port: 10256 },
    { text: '0.0.0.0:10256', host: '0.0.0.0', port: 10256 },
    { text: '127.0.0.1', host: '127.0.0.1', port: 10256 },
    { text: ':10257', host: '', port: 10257 },
    { text: '[::1]:9000', host: '::1', port: 9000 },
  ];
  for (const { text, host, port } of table) {
    it(`"${text}"`, () =>
      assert.deepEqual(parseBindAddress(text, 'healthzBindAddress', '0.0.0.0:10256'), { host, port }));
  }
  it('rejects a bad one with the field and an example', () => {
    assert.throws(
      () => parseBindAddress('localhost:99999', 'metricsBindAddress', '127.0.0.1:10249'),
      (error: unknown) =>
        error instanceof KproxyError &&
        error.code === 'KPROXY_E_CONFIG' &&
        /metricsBindAddress/.test(error.message),
    );
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startHealthzServer } from '../../src/servers/healthz.js';
import { ProxyMetrics } from '../../src/servers/metrics.js';
import { isNodeEligible, ProxyHealth } from '../../src/servers/proxy-health.js';

const syncPeriodMs = 30_000;

describe('healthz and livez', () => {
  let clock = Date.parse('2026-03-14T13:48:24.900Z');
  const health = new ProxyHealth({ healthTimeoutMs: 2 * syncPeriodMs, now: () => clock });
  const metrics = new ProxyMetrics({ mode: 'iptables' });
  let server: RunningServer;
  const get = async (path: string) => {
    const response = await fetch(`http://127.0.0.1:${server.address.port}${path}`);
    return { status: response.status, headers: response.headers, body: await response.json() };
  };

  before(async () => {
    server = await startHealthzServer({
      address: { host: '127.0.0.1', port: 0 },
      health,
      onProbe: (path, code) => metrics.probeAnswered(path, code),
    });
  });
  after(() => server.close());

  it('is healthy while starting up, with kube-proxy JSON fields', async () => {
    const { status, headers, body } = await get('/healthz');
    assert.equal(status, 200);
    assert.equal(headers.get('content-type'), 'application/json');
    assert.equal(headers.get('x-content-type-options'), 'nosniff');
    assert.deepEqual(body, {
      lastUpdated: '2026-03-14T13:48:24.900Z',
      currentTime: '2026-03-14T13:48:24.900Z',
      nodeEligible: true,
      healthy: true,
      status: {},
    });
  });

  it('stays healthy while a queued change is younger than 2 × syncPeriod', async () => {
    health.updated('IPv4');
    clock += 1000;
    health.queuedUpdate('IPv4');
    clock += 2 * syncPeriodMs - 1;
    const { status, body } = await get('/livez');
    assert.equal(status, 200);
    assert.equal(body.healthy, true);
    assert.equal(body.nodeEligible, undefined, '/livez does not report the node');
    assert.deepEqual(body.status, { IPv4: { lastUpdated: '2026-03-14T13:48:24.900Z', healthy: true } });
  });

  it('turns 503 on both paths once a queued change waited 2 × syncPeriod, with the last sync time', async () => {
    clock += 1;
    for (const path of ['/healthz', '/livez']) {
      const { status, body } = await get(path);
      assert.equal(status, 503, path);
      assert.equal(body.healthy, false);
      assert.equal(body.lastUpdated, '2026-03-14T13:48:24.900Z');
      assert.deepEqual(body.status.IPv4.healthy, false);
    }
  });

  it('is healthy again after a sync', async () => {
    health.updated('IPv4');
    assert.equal((await get('/healthz')).status, 200);
  });

  it('fails /healthz but not /livez while the node is being deleted', async () => {
    health.setNodeEligible(
      isNodeEligible({
        metadata: { name: 'node-a' },
        spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler' }] },
      }),
    );
    const healthz = await get('/healthz');
    assert.equal(healthz.status, 503);
    assert.equal(healthz.body.nodeEligible, false);
    assert.equal((await get('/livez')).status, 200);
    health.setNodeEligible(true);
  });

  it('counts answers in kubeproxy_proxy_healthz_total and _livez_total by code', async () => {
    const text = await metrics.text();
    assert.match(text, /^kubeproxy_proxy_healthz_total\{code="200"\} 2$/m);
    assert.match(text, /^kubeproxy_proxy_healthz_total\{code="503"\} 2$/m);
    assert.match(text, /^kubeproxy_proxy_livez_total\{code="200"\} 2$/m);
    assert.match(text, /^kubeproxy_proxy_livez_total\{code="503"\} 1$/m);
  });

  it('answers 404 elsewhere', async () => {
    const response = await fetch(`http://127.0.0.1:${server.address.port}/metrics`);
    assert.equal(response.status, 404);
    await response.text();
  });
});

describe('ProxyHealth before the first sync', () => {
  it('turns unhealthy when the first queued change never gets synced', () => {
    let clock = 0;
    const health = new ProxyHealth({ healthTimeoutMs: 1000, now: () => clock });
    health.queuedUpdate('IPv4');
    clock = 999;
    assert.equal(health.isHealthy(), true);
    clock = 1000;
    assert.equal(health.isHealthy(), false);
    assert.equal(health.report().lastUpdated, '0001-01-01T00:00:00Z');
  });

  it('needs every family healthy in dual-stack', () => {
    let clock = 0;
    const health = new ProxyHealth({ healthTimeoutMs: 1000, now: () => clock });
    health.updated('IPv4');
    health.updated('IPv6');
    health.queuedUpdate('IPv6');
    clock = 5000;
    const report = health.report();
    assert.equal(report.healthy, false);
    assert.equal(report.status.IPv4?.healthy, true);
    assert.equal(report.status.IPv6?.healthy, false);
  });
});

describe('node eligibility, kube-proxy rule', () => {
  const table = [
    { what: 'a plain node', node: { metadata: { name: 'n' } }, eligible: true },
    {
      what: 'a node being deleted',
      node: { metadata: { name: 'n', deletionTimestamp: '2026-03-16T23:45:26Z' } },
      eligible: false,
    },
    {
      what: 'a node tainted for deletion by the autoscaler',
      node: {
        metadata: { name: 'n' },
        spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] },
      },
      eligible: false,
    },
    {
      what: 'a node with another taint',
      node: { metadata: { name: 'n' }, spec: { taints: [{ key: 'node.kubernetes.io/unschedulable' }] } },
      eligible: true,
    },
  ];
  for (const { what, node, eligible } of table) it(what, () => assert.equal(isNodeEligible(node), eligible));
});

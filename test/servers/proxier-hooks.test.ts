import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ProxierLogger } from '../../src/control/proxier.js';
import { decodeNode } from '../../src/model/decode-endpoint-slice.js';
import type { NodeObject, ServiceObject } from '../../src/model/k8s-objects.js';
import type { ProxyState } from '../../src/model/proxy-state.js';
import { DaemonServers } from '../../src/servers/daemon-servers.js';
import { observeSourceEvents, reportSyncs } from '../../src/servers/proxier-hooks.js';
import type { SourceHandler } from '../../src/sources/source.js';
import { endpoint, eventually, freePort, stateOf } from './fixtures.js';

function recordingHandler(calls: string[]): SourceHandler {
  return {
    service: (key) => void calls.push(`service ${key}`),
    endpointSlice: (key) => void calls.push(`endpointSlice ${key}`),
    node: (name) => void calls.push(`node ${name}`),
    synced: () => void calls.push('synced'),
    problem: (error) => void calls.push(`problem ${error.code}`),
  };
}

function service(resourceVersion: string): ServiceObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', resourceVersion },
    spec: { clusterIP: '10.96.0.10', ports: [{ port: 80 }] },
  };
}

function decodedNode(raw: unknown): NodeObject {
  const result = decodeNode(raw);
  assert.ok(result.ok, JSON.stringify(result));
  return result.object;
}

describe('the hooks between the proxier and the servers', () => {
  let servers: DaemonServers;
  before(async () => {
    servers = await DaemonServers.start({
      mode: 'iptables',
      nodeName: 'node-a',
      healthzBindAddress: '127.0.0.1:0',
      metricsBindAddress: '127.0.0.1:0',
      syncPeriodSeconds: 30,
      healthCheckHosts: ['127.0.0.1'],
    });
  });
  after(() => servers.stop());
  const metric = async (series: string) => {
    const line = (await servers.metrics.text()).split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  it('forwards every event, and counts a change only when the object really changed', async () => {
    const calls: string[] = [];
    const handler = observeSourceEvents(recordingHandler(calls), servers, 'node-a');
    handler.service('default/web', service('100'));
    handler.service('default/web', service('100')); // a relist: same resourceVersion
    handler.service('default/web', service('101'));
    handler.service('default/web', undefined);
    handler.synced();
    assert.deepEqual(calls, [
      'service default/web',
      'service default/web',
      'service default/web',
      'service default/web',
      'synced',
    ]);
    assert.equal(await metric('kubeproxy_sync_proxy_rules_service_changes_total'), 3);
    assert.equal(await metric('kubeproxy_sync_proxy_rules_service_changes_pending'), 1);
  });

  it("follows this node's eligibility from its Node object, as the API sends it", () => {
    const handler = observeSourceEvents(recordingHandler([]), servers, 'node-a');
    const node = (extra: Record<string, unknown> = {}, metadata: Record<string, unknown> = {}) =>
      decodedNode({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a', ...metadata }, ...extra });
    handler.node(
      'node-a',
      node({ spec: { taints: [{ key: 'ToBeDeletedByClusterAutoscaler', effect: 'NoSchedule' }] } }),
    );
    assert.equal(servers.health.isNodeEligible(), false, 'tainted for deletion');
    handler.node('node-a', node());
    assert.equal(servers.health.isNodeEligible(), true);
    handler.node('node-a', node({}, { deletionTimestamp: new Date('2026-03-16T23:45:26Z') }));
    assert.equal(servers.health.isNodeEligible(), false, 'being deleted (the client gives a Date)');
    handler.node('node-b', node());
    assert.equal(servers.health.isNodeEligible(), false, 'another node changes nothing');
    handler.node('node-a', undefined);
    assert.equal(servers.health.isNodeEligible(), false, 'gone');
    handler.node('node-a', node());
  });

  it('reports each sync: failures counted, the state handed to the health-check ports', async () => {
    const port = await freePort();
    const state: ProxyState = stateOf({
      name: 'web',
      endpoints: [endpoint('10.1.0.1', { local: true })],
      externalTrafficPolicy: 'Local',
      healthCheckNodePort: port,
    });
    const logged: string[] = [];
    const inner: ProxierLogger = {
      problem: () => {},
      syncFailed: () => void logged.push('failed'),
      synced: () => void logged.push('synced'),
    };
    const logger = reportSyncs(inner, servers, () => state);
    logger.syncFailed(new Map([['default/web', new Error('iptables-restore: line 7 failed')]]));
    logger.synced({ servicePorts: 1, changed: 1, full: true, elapsedMs: 12 });
    assert.deepEqual(logged, ['failed', 'synced']);
    assert.equal(await metric('kubeproxy_sync_proxy_rules_iptables_restore_failures_total'), 1);
    assert.equal(
      await metric('kubeproxy_sync_proxy_rules_last_timestamp_seconds'),
      0,
      'a failed sync is not a sync',
    );
    // Even after a failed sync the ports follow the state: their answer comes from endpoints.
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${port}/`).catch(() => undefined))?.status === 200,
    );
    logger.synced({ servicePorts: 1, changed: 0, full: true, elapsedMs: 3 });
    assert.ok(((await metric('kubeproxy_sync_proxy_rules_last_timestamp_seconds')) ?? 0) > 1_700_000_000);
  });

  it("observes the network programming latency from an EndpointSlice's last-change-trigger-time", async () => {
    const handler = observeSourceEvents(recordingHandler([]), servers, 'node-a');
    const count = () => metric('kubeproxy_network_programming_duration_seconds_count');
    const before = (await count()) ?? 0;
    handler.endpointSlice('default/web-1', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: {
        name: 'web-1',
        namespace: 'default',
        resourceVersion: '7',
        annotations: {
          'endpoints.kubernetes.io/last-change-trigger-time': new Date(Date.now() - 3000).toISOString(),
        },
      },
      addressType: 'IPv4',
      endpoints: [],
    });
    const logger = reportSyncs({ problem: () => {}, syncFailed: () => {}, synced: () => {} }, servers, () =>
      stateOf({ name: 'web', endpoints: [endpoint('10.1.0.1')] }),
    );
    logger.synced({ servicePorts: 1, changed: 1, full: false, elapsedMs: 2 });
    await eventually(async () => (await count()) === before + 1);
    assert.ok(((await metric('kubeproxy_network_programming_duration_seconds_sum')) ?? 0) >= 3);
  });
});

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/servers/healthz.js';
import { ProxyMetrics } from '../../src/servers/metrics.js';
import { startMetricsServer } from '../../src/servers/metrics-server.js';
import { endpoint, stateOf } from './fixtures.js';

/** The value of one sample line, e.g. `name{label="x"} 3`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const commonNames = [
  'kubeproxy_sync_proxy_rules_duration_seconds',
  'kubeproxy_sync_proxy_rules_last_timestamp_seconds',
  'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds',
  'kubeproxy_network_programming_duration_seconds',
  'kubeproxy_sync_proxy_rules_service_changes_pending',
  'kubeproxy_sync_proxy_rules_service_changes_total',
  'kubeproxy_sync_proxy_rules_endpoint_changes_pending',
  'kubeproxy_sync_proxy_rules_endpoint_changes_total',
  'kubeproxy_sync_proxy_rules_no_local_endpoints_total',
  'kubeproxy_proxy_healthz_total',
  'kubeproxy_proxy_livez_total',
];

describe('metrics under kube-proxy names', () => {
  const table = [
    {
      mode: 'iptables' as const,
      has: [
        'kubeproxy_sync_proxy_rules_iptables_restore_failures_total',
        'kubeproxy_sync_full_proxy_rules_duration_seconds',
        'kubeproxy_sync_partial_proxy_rules_duration_seconds',
        'kubeproxy_sync_proxy_rules_iptables_total',
      ],
      hasNot: ['kubeproxy_sync_proxy_rules_nftables_sync_failures_total'],
    },
    {
      mode: 'nftables' as const,
      has: ['kubeproxy_sync_proxy_rules_nftables_sync_failures_total'],
      hasNot: ['kubeproxy_sync_proxy_rules_iptables_restore_failures_total'],
    },
    {
      mode: 'ipvs' as const,
      has: ['kubeproxy_sync_proxy_rules_iptables_restore_failures_total'],
      hasNot: ['kubeproxy_sync_full_proxy_rules_duration_seconds'],
    },
  ];
  for (const { mode, has, hasNot } of table) {
    it(`registers the ${mode} set, as kube-proxy does`, async () => {
      const text = await new ProxyMetrics({ mode }).text();
      for (const name of [...commonNames, ...has])
        assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
      for (const name of hasNot) assert.doesNotMatch(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
    });
  }

  it('uses kube-proxy buckets: sync 1 ms × 2^n (15), network programming 0.25 s … 5 min', async () => {
    const text = await new ProxyMetrics({ mode: 'iptables' }).text();
    const les = (name: string) =>
      [...text.matchAll(new RegExp(`^${name}_bucket\\{le="([^"]+)"\\}`, 'gm'))].map((m) => m[1]);
    const sync = les('kubeproxy_sync_proxy_rules_duration_seconds');
    assert.equal(sync.length, 16);
    assert.deepEqual([sync[0], sync[14], sync[15]], ['0.001', '16.384', '+Inf']);
    const programming = les('kubeproxy_network_programming_duration_seconds');
    assert.deepEqual(programming.slice(0, 4), ['0.25', '0.5', '1', '2']);
    assert.deepEqual(programming.slice(-3), ['270', '300', '+Inf']);
  });

  it('records syncs, failures, changes and Local policies without local endpoints', async () => {
    const metrics = new ProxyMetrics({ mode: 'iptables' });
    metrics.syncQueued(1_700_000_000_000);
    metrics.changes({ servicesPending: 2, endpointsPending: 3, servicesAdded: 2, endpointsAdded: 3 });
    let text = await metrics.text();
    assert.equal(sample(text, 'kubeproxy_sync_proxy_rules_service_changes_pending'), 2);
    assert.equal(sample(text, 'kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds'), 1_700_000_000);

    metrics.syncFailed();
    metrics.syncFinished({
      durationSeconds: 0.003,
      full: true,
      succeeded: false,
      finishedAtMs: 1_700_000_001_000,
    });
    metrics.syncFinished({
      durationSeconds: 0.05,
      full: false,
      succeeded: true,
      finishedAtMs: 1_700_000_002_000,
    });
    metrics.networkProgrammed(1.5);
    metrics.iptablesRuleCount('nat', 42);
    metrics.localPolicies(
      stateOf(
        { name: 'etp-local', endpoints: [endpoint('10.1.0.1')], externalTrafficPolicy: 'Local' },
        {
          name: 'etp-local',
          portName: 'https',
          endpoints: [endpoint('10.1.0.1')],
          externalTrafficPolicy: 'Local',
        },
        { name: 'itp-local', endpoints: [endpoint('10.1.0.2')], internalTrafficPolicy: 'Local' },
        {
          name: 'itp-served',
          endpoints: [endpoint('10.1.0.3', { local: true })],
          internalTrafficPolicy: 'Local',
        },
        { name: 'no-endpoints', endpoints: [], externalTrafficPolicy: 'Local' },
      ),
    );
    text = await metrics.text();
    assert.equal(sample(text, 'kubeproxy_sync_proxy_rules_iptables_restore_failures_total'), 1);
    assert.equal(sample(text, 'kubeproxy_sync_proxy_rules_duration_seconds_count'), 2);
    assert.equal(sample(text, 'kubeproxy_sync_full_proxy_rules_duration_seconds_count'), 1);
    assert.equal(sample(text, 'kubeproxy_sync_partial_proxy_rules_duration_seconds_count'), 1);
    assert.equal(sample(text, 'kubeproxy_sync_proxy_rules_last_timestamp_seconds'), 1_700_000_002);
    assert.equal(sample(text, 'kubeproxy_sync_proxy_rules_service_changes_pending'), 0);
    assert.equal(sample(text, 'kubeproxy_sync_proxy_rules_service_changes_total'), 2);
    assert.equal(sample(text, 'kubeproxy_sync_proxy_rules_endpoint_changes_total'), 3);
    assert.equal(sample(text, 'kubeproxy_network_programming_duration_seconds_bucket{le="2"}'), 1);
    assert.equal(sample(text, 'kubeproxy_network_programming_duration_seconds_bucket{le="1"}'), 0);
    assert.equal(sample(text, 'kubeproxy_sync_proxy_rules_iptables_total{table="nat"}'), 42);
    assert.equal(
      sample(text, 'kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy="external"}'),
      1,
    );
    assert.equal(
      sample(text, 'kubeproxy_sync_proxy_rules_no_local_endpoints_total{traffic_policy="internal"}'),
      1,
    );
  });
});

describe('metrics server', () => {
  const metrics = new ProxyMetrics({ mode: 'nftables', processMetrics: true });
  let server: RunningServer;
  before(async () => {
    server = await startMetricsServer({ address: { host: '127.0.0.1', port: 0 }, metrics });
  });
  after(() => server.close());
  const get = (path: string) => fetch(`http://127.0.0.1:${server.address.port}${path}`);

  it('serves the Prometheus text on /metrics, process series included', async () => {
    const response = await get('/metrics');
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await response.text();
    assert.match(text, /^# TYPE kubeproxy_sync_proxy_rules_nftables_sync_failures_total counter$/m);
    assert.match(text, /^process_resident_memory_bytes /m);
  });

  it('tells the mode on /proxyMode and answers ok on /healthz', async () => {
    assert.equal(await (await get('/proxyMode')).text(), 'nftables');
    assert.equal(await (await get('/healthz')).text(), 'ok');
    const missing = await get('/nothing');
    assert.equal(missing.status, 404);
    await missing.text();
  });
});

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { LabCluster } from '../../src/lab/backends/lab-backend.js';
import { UserspaceLabBackend } from '../../src/lab/backends/userspace-lab-backend.js';
import { parseLabMode } from '../../src/lab/lab-mode.js';
import { counterDelta, parsePrometheusCounters } from '../../src/lab/load/counters.js';
import type { LoadSummary } from '../../src/lab/load/summarize.js';

const run = promisify(execFile);
const KPROXY = new URL('../../bin/kproxy.js', import.meta.url).pathname;

test('Prometheus text: per-endpoint samples of one metric, by endpoint or pod label', () => {
  const text = [
    '# TYPE kproxy_endpoint_connections_total counter',
    'kproxy_endpoint_connections_total{service="default/web:http",endpoint="10.0.0.1:80"} 12',
    'kproxy_endpoint_connections_total{service="default/web:http",endpoint="10.0.0.2:80"} 30',
    'kproxy_other_total{endpoint="10.0.0.1:80"} 99',
    'kproxy_endpoint_connections_total{pod="web-c"} 4',
  ].join('\n');
  const counts = parsePrometheusCounters(text, 'kproxy_endpoint_connections_total');
  assert.deepEqual(
    [...counts],
    [
      ['10.0.0.1:80', 12],
      ['10.0.0.2:80', 30],
      ['web-c', 4],
    ],
  );
  assert.deepEqual([...counterDelta(new Map([['10.0.0.1:80', 10]]), counts)][0], ['10.0.0.1:80', 2]);
});

let backend: UserspaceLabBackend;
let cluster: LabCluster;
let countersServer: Server;
let serviceUrl = '';
let countersUrl = '';

before(async () => {
  backend = new UserspaceLabBackend();
  cluster = await backend.startCluster(3);
  const frontend = await backend.start(parseLabMode('ipvs:lc'), cluster.state());
  serviceUrl = `http://${frontend.host}:${frontend.port}/`;
  // The proxy's per-endpoint counters as JSON, the way a metrics endpoint would serve them.
  countersServer = createServer(async (_, response) => {
    response.end(JSON.stringify(Object.fromEntries(await backend.connectionCounters())));
  });
  await new Promise<void>((resolve) => countersServer.listen(0, '127.0.0.1', resolve));
  const address = countersServer.address();
  countersUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
});

after(async () => {
  countersServer.close();
  await backend.stop();
  await cluster.stop();
});

test("attribution by the proxy's counters read before and after equals what the pods saw", async () => {
  const before = new Map(cluster.allPods().map((pod) => [pod.endpoint, pod.requests()]));
  const args = [
    'bench',
    '--json',
    '-n',
    '90',
    '-c',
    '9',
    '--pod-header',
    'X-Nothing',
    '--counters-url',
    countersUrl,
  ];
  const { stdout } = await run(process.execPath, [KPROXY, ...args, serviceUrl], { timeout: 60_000 });
  const summary = JSON.parse(stdout) as LoadSummary;
  assert.deepEqual(
    summary.distribution.map((share) => [share.pod, share.connections]),
    cluster.allPods().map((pod) => [pod.endpoint, pod.requests() - (before.get(pod.endpoint) ?? 0)]),
  );
  assert.equal(
    summary.distribution.reduce((sum, share) => sum + share.connections, 0),
    90,
  );
});

import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { HealthCheckNodePorts } from '../../src/servers/health-check-node-ports.js';
import { captureStderr, closeNet, endpoint, eventually, freePort, stateOf } from './fixtures.js';

async function probe(
  port: number,
): Promise<{ status: number; weight: string | null; body: unknown; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}/`);
  const text = await response.text();
  return {
    status: response.status,
    weight: response.headers.get('x-load-balancing-endpoint-weight'),
    body: JSON.parse(text),
    text,
  };
}

async function refused(port: number): Promise<boolean> {
  try {
    await (await fetch(`http://127.0.0.1:${port}/`)).text();
    return false;
  } catch {
    return true;
  }
}

function metricValue(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('health-check node ports', () => {
  let proxyHealthy = true;
  const registry = new Registry();
  const failures: { service: string; port: number; error: Error }[] = [];
  const ports = new HealthCheckNodePorts({
    nodeName: 'node-a',
    onListenFailure: (failure) => failures.push(failure),
    isProxyHealthy: () => proxyHealthy,
    hosts: ['127.0.0.1'],
    registry,
    retry: { initialMs: 20, maxMs: 80 },
  });
  after(() => ports.close());

  it('answers 200 with kube-proxy JSON and the endpoint weight while the node has local ready endpoints', async () => {
    const port = await freePort();
    await ports.sync(
      stateOf(
        {
          namespace: 'ingress-nginx',
          name: 'ingress-nginx-controller',
          portName: 'http',
          endpoints: [
            endpoint('10.1.0.5', { local: true }),
            endpoint('10.1.0.6', { local: true }),
            endpoint('10.2.0.7'),
          ],
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: port,
        },
        {
          namespace: 'ingress-nginx',
          name: 'ingress-nginx-controller',
          portName: 'https',
          port: 443,
          endpoints: [endpoint('10.1.0.5', { local: true, port: 8443 })],
          externalTrafficPolicy: 'Local',
          healthCheckNodePort: port,
        },
      ),
    );
    const answer = await probe(port);
    assert.equal(answer.status, 200);
    assert.equal(answer.weight, '2', 'an endpoint serving two ports counts once; remote ones not at all');
    assert.deepEqual(answer.body, {
      service: { namespace: 'ingress-nginx', name: 'ingress-nginx-controller' },
      localEndpoints: 2,
      serviceProxyHealthy: true,
    });
    assert.equal(
      answer.text,
      '{\n\t"service": {\n\t\t"namespace": "ingress-nginx",\n\t\t"name": "ingress-nginx-controller"\n\t},\n\t"localEndpoints": 2,\n\t"serviceProxyHealthy": true\n}',
    );
  });

  it('answers 503 without local ready endpoints (terminating ones do not count), and while the proxy is unhealthy', async () => {
    const port = await freePort();
    const service = {
      name: 'web',
      endpoints: [endpoint('10.1.0.9', { local: true, ready: false }), endpoint('10.2.0.1')],
      externalTrafficPolicy: 'Local' as const,
      healthCheckNodePort: port,
    };
    await ports.sync(stateOf(service));
    let answer = await probe(port);
    assert.equal(answer.status, 503);
    assert.equal(answer.weight, '0');

    await ports.sync(stateOf({ ...service, endpoints: [endpoint('10.1.0.10', { local: true })] }));
    assert.equal((await probe(port)).status, 200, 'the same port follows the new endpoints');

    proxyHealthy = false;
    answer = await probe(port);
    assert.equal(answer.status, 503);
    assert.deepEqual(answer.body, {
      service: { namespace: 'default', name: 'web' },
      localEndpoints: 1,
      serviceProxyHealthy: false,
    });
    proxyHealthy = true;
  });

  it('opens no port for Cluster policy, and closes a port when its Service goes or turns Cluster', async () => {
    const port = await freePort();
    const local = {
      name: 'web',
      endpoints: [endpoint('10.1.0.1', { local: true })],
      healthCheckNodePort: port,
    };
    await ports.sync(stateOf({ ...local, externalTrafficPolicy: 'Local' }));
    assert.equal((await probe(port)).status, 200);
    await ports.sync(stateOf({ ...local, externalTrafficPolicy: 'Cluster' }));
    assert.ok(await refused(port));
    assert.deepEqual(ports.status(), []);
  });

  it('logs a port in use with the Service, counts it, keeps serving the others, and retries until it is free', async () => {
    const blockedPort = await freePort();
    const freeOne = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(blockedPort, '127.0.0.1', resolve));
    const state = stateOf(
      {
        namespace: 'ingress-nginx',
        name: 'ingress-nginx-controller',
        endpoints: [endpoint('10.1.0.5', { local: true })],
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: blockedPort,
      },
      {
        name: 'web',
        endpoints: [endpoint('10.1.0.6', { local: true })],
        externalTrafficPolicy: 'Local',
        healthCheckNodePort: freeOne,
      },
    );
    const { lines } = await captureStderr(async () => {
      await ports.sync(state);
      assert.equal((await probe(freeOne)).status, 200, 'the other Service is served');
      await eventually(
        async () =>
          (metricValue(await registry.metrics(), 'kproxy_health_check_node_port_listen_failures_total') ??
            0) >= 3,
      );
    });
    const failure = lines.find((line) => line.includes('"Failed to start healthcheck"'));
    assert.ok(failure, `no klog error line in:\n${lines.join('\n')}`);
    assert.match(failure, /^E\d{4} \d{2}:\d{2}:\d{2}\.\d{6} \d+ health-check-node-ports\.ts\] /);
    assert.ok(
      failure.includes(`err="listen tcp 127.0.0.1:${blockedPort}: bind: address already in use`),
      failure,
    );
    assert.ok(failure.includes('node="node-a" service="ingress-nginx/ingress-nginx-controller"'), failure);
    assert.ok(failure.includes(`port=${blockedPort}`), failure);
    assert.ok(failure.includes(`ss -ltnp 'sport = :${blockedPort}'`), 'says how to find the holder');
    assert.equal(
      failures[0]?.service,
      'ingress-nginx/ingress-nginx-controller',
      'told, e.g. to post an event',
    );
    assert.equal(failures[0]?.port, blockedPort);
    const text = await registry.metrics();
    assert.equal(metricValue(text, 'kproxy_health_check_node_ports{state="failing"}'), 1);
    assert.equal(metricValue(text, 'kproxy_health_check_node_ports{state="serving"}'), 1);

    await closeNet(blocker);
    await captureStderr(() => eventually(() => ports.status().every((entry) => entry.listening)));
    assert.equal((await probe(blockedPort)).status, 200, 'the retry took the port once it was free');
    assert.equal((await probe(freeOne)).status, 200);
  });

  it('stops retrying when the Service goes away while its port is in use', async () => {
    const blockedPort = await freePort();
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(blockedPort, '127.0.0.1', resolve));
    const service = {
      name: 'gone',
      endpoints: [endpoint('10.1.0.5', { local: true })],
      externalTrafficPolicy: 'Local' as const,
      healthCheckNodePort: blockedPort,
    };
    await captureStderr(() => ports.sync(stateOf(service)));
    await ports.sync(stateOf());
    await closeNet(blocker);
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.ok(await refused(blockedPort), 'no late retry opened the port of a removed Service');
    assert.deepEqual(ports.status(), []);
  });
});

import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, freePort } from './fixtures.js';

const KPROXY = fileURLToPath(new URL('../../bin/kproxy.js', import.meta.url));

function config(mode: string): string {
  // Health-check node ports only on loopback: nodePortAddresses picks the local addresses they use.
  return `apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: "${mode}"
nodePortAddresses: ["127.0.0.0/8"]
`;
}

/** The seed's ingress Service, externalTrafficPolicy Local, one pod on this node and one elsewhere. */
function ingress(healthCheckNodePort: number): string {
  return `apiVersion: v1
kind: Service
metadata: { name: ingress-nginx-controller, namespace: ingress-nginx }
spec:
  type: LoadBalancer
  clusterIP: 10.96.0.60
  externalTrafficPolicy: Local
  healthCheckNodePort: ${healthCheckNodePort}
  ports: [{ name: http, port: 80, nodePort: 31080 }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: ingress-1, namespace: ingress-nginx, labels: { kubernetes.io/service-name: ingress-nginx-controller } }
addressType: IPv4
ports: [{ name: http, port: 8080 }]
endpoints:
  - { addresses: [127.0.0.1], nodeName: node-a, conditions: { ready: true } }
  - { addresses: [127.0.0.2], nodeName: node-b, conditions: { ready: true } }
`;
}

interface Run {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  readonly stderr: () => string;
}

function startRun(dir: string, healthz: number, metrics: number): Run {
  const child = spawn(process.execPath, [
    KPROXY,
    'run',
    '--config',
    join(dir, 'config.yaml'),
    '--manifests',
    join(dir, 'ingress.yaml'),
    '--hostname-override',
    'node-a',
    '--healthz-bind-address',
    `127.0.0.1:${healthz}`,
    '--metrics-bind-address',
    `127.0.0.1:${metrics}`,
    // As root the frontends would go on the host's kube-ipvs0: tests keep to loopback.
    '--userspace-frontends',
    'loopback',
  ]);
  const guard = setTimeout(() => child.kill('SIGKILL'), 30_000);
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  child.stdout?.resume();
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve(code);
    }),
  );
  return { child, exited, stderr: () => stderr };
}

async function answer(port: number, path = '/'): Promise<{ status: number; body: string } | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: await response.text() };
  } catch {
    return undefined;
  }
}

describe('kproxy run as a node daemon (userspace mode, manifests)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kp-run-daemon-'));
    await writeFile(join(dir, 'config.yaml'), config('userspace'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('serves /healthz, /metrics and the health-check node port, and stops on SIGTERM with exit 0', async () => {
    const [healthz, metrics, healthCheck] = [await freePort(), await freePort(), await freePort()];
    await writeFile(join(dir, 'ingress.yaml'), ingress(healthCheck));
    const run = startRun(dir, healthz, metrics);
    try {
      await eventually(async () => (await answer(healthCheck))?.status === 200, 20_000).catch(
        (error: unknown) => assert.fail(`${String(error)}\n${run.stderr()}`),
      );
      const check = await answer(healthCheck);
      assert.deepEqual(JSON.parse(check?.body ?? ''), {
        service: { namespace: 'ingress-nginx', name: 'ingress-nginx-controller' },
        localEndpoints: 1,
        serviceProxyHealthy: true,
      });
      const health = await answer(healthz, '/healthz');
      assert.equal(health?.status, 200);
      assert.equal(JSON.parse(health?.body ?? '').nodeEligible, true);
      const text = (await answer(metrics, '/metrics'))?.body ?? '';
      assert.match(text, /^kubeproxy_sync_proxy_rules_last_timestamp_seconds \d{10}/m);
      assert.match(text, /^kubeproxy_sync_proxy_rules_service_changes_total 1$/m);
      assert.match(text, /^kubeproxy_sync_proxy_rules_endpoint_changes_total 1$/m);
      assert.equal((await answer(metrics, '/proxyMode'))?.body, 'userspace');

      run.child.kill('SIGTERM');
      assert.equal(await run.exited, 0, run.stderr());
      assert.equal(await answer(healthCheck), undefined, 'the health-check port closed');
      assert.equal(await answer(healthz, '/livez'), undefined);
    } finally {
      run.child.kill('SIGKILL');
    }
  });

  it('exits 1 with KPROXY_E_CONFIG_CHANGED when its config file changes', async () => {
    const [healthz, metrics, healthCheck] = [await freePort(), await freePort(), await freePort()];
    await writeFile(join(dir, 'ingress.yaml'), ingress(healthCheck));
    const run = startRun(dir, healthz, metrics);
    try {
      await eventually(async () => (await answer(healthz, '/livez'))?.status === 200, 20_000);
      await writeFile(join(dir, 'config.yaml'), config('userspace').replace('mode:', '# edited\nmode:'));
      assert.equal(await run.exited, 1, run.stderr());
      assert.match(run.stderr(), /config\.yaml changed; exiting to restart with it/);
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});

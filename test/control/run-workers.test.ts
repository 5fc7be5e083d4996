import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually, freePort } from '../servers/fixtures.js';

const KPROXY = fileURLToPath(new URL('../../bin/kproxy.js', import.meta.url));
const CONFIG =
  'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nmode: "userspace"\n';
const PODS = ['127.0.0.1', '127.0.0.2'];

function manifest(port: number): string {
  return `apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec: { clusterIP: 10.96.0.51, ports: [{ name: http, port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: demo, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: ${port} }]
endpoints: [${PODS.map((ip) => `{ addresses: [${ip}], nodeName: node-a }`).join(', ')}]
`;
}

/** One HTTP pod per address, all on the same port, each answering with its address. */
async function startPods(): Promise<{ servers: Server[]; port: number }> {
  const first = createServer((_, response) => response.end(PODS[0]));
  await new Promise<void>((resolve) => first.listen(0, PODS[0], resolve));
  const { port } = first.address() as AddressInfo;
  const second = createServer((_, response) => response.end(PODS[1]));
  await new Promise<void>((resolve) => second.listen(port, PODS[1], resolve));
  return { servers: [first, second], port };
}

/** A request on a new connection; the body, or undefined when it failed. */
function fetchText(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 2000 }, (response) => {
      let body = '';
      response.on('data', (chunk) => (body += chunk));
      response.on('end', () => resolve(body));
    });
    request.on('error', () => resolve(undefined));
    request.on('timeout', () => request.destroy());
  });
}

function workerPids(parent: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(parent), '-f', 'userspace-worker'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

async function connectionsCounted(metricsPort: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return [
    ...text.matchAll(/^kproxy_endpoint_connections_total\{[^}]*service_port="demo\/web:http"[^}]*\} (\d+)/gm),
  ]
    .map((match) => Number(match[1]))
    .reduce((sum, n) => sum + n, 0);
}

describe('kproxy run --userspace-workers 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-workers-'));
  let pods: Server[] = [];
  let child: ChildProcess | undefined;

  before(async () => {
    const started = await startPods();
    pods = started.servers;
    writeFileSync(join(dir, 'config.yaml'), CONFIG);
    writeFileSync(join(dir, 'web.yaml'), manifest(started.port));
  });

  after(() => {
    child?.kill('SIGKILL');
    for (const pod of pods) pod.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proxies through two worker processes, counts over both, and replaces a worker that dies', async () => {
    const metricsPort = await freePort();
    let stdout = '';
    let stderr = '';
    const proc = spawn(process.execPath, [
      KPROXY,
      'run',
      '--config',
      join(dir, 'config.yaml'),
      '--manifests',
      join(dir, 'web.yaml'),
      '--hostname-override',
      'node-a',
      '--metrics-bind-address',
      `127.0.0.1:${metricsPort}`,
      '--userspace-workers',
      '2',
      // As root the frontends would go on the host's kube-ipvs0: tests keep to loopback.
      '--userspace-frontends',
      'loopback',
    ]);
    child = proc;
    proc.stdout?.on('data', (chunk) => (stdout += chunk));
    proc.stderr?.on('data', (chunk) => (stderr += chunk));
    let frontend = 0;
    await eventually(() => {
      frontend = Number(/demo\/web:http 10\.96\.0\.51:80 -> 127\.0\.0\.1:(\d+)/.exec(stdout)?.[1] ?? 0);
      return frontend > 0;
    }, 20_000).catch(() => assert.fail(`no frontend printed\n${stderr}`));
    const pid = proc.pid ?? 0;
    assert.equal(workerPids(pid).length, 2, 'two worker processes');

    const answers = await Promise.all(Array.from({ length: 20 }, () => fetchText(frontend)));
    assert.deepEqual([...new Set(answers)].sort(), PODS, 'both pods answered, no request failed');
    assert.equal(await connectionsCounted(metricsPort), 20, 'the metrics sum both workers');

    const [victim] = workerPids(pid);
    process.kill(victim ?? 0, 'SIGKILL');
    const afterKill = await Promise.all(Array.from({ length: 10 }, () => fetchText(frontend)));
    assert.ok(
      afterKill.every((answer) => answer !== undefined),
      'the other worker serves on',
    );
    await eventually(() => {
      const pids = workerPids(pid);
      return pids.length === 2 && !pids.includes(victim ?? 0);
    }, 20_000);
    await eventually(() => stderr.includes('"Userspace worker exited; starting another"'), 5_000);
    // The new worker has the state: every request is served, whichever worker takes it.
    const later = await Promise.all(Array.from({ length: 20 }, () => fetchText(frontend)));
    assert.ok(later.every((answer) => answer !== undefined));
    // What the dead worker had counted at the last scrape stays in the total (it took nothing after).
    assert.equal(await connectionsCounted(metricsPort), 50);

    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(workerPids(pid), []);
  });
});

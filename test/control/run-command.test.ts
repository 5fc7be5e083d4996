import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { FakeApiServer, type KubeObject } from '../fakes/fake-api-server.js';
import {
  fetchText,
  KPROXY,
  spawnKproxyRun,
  startHttpPod,
  USERSPACE_CONFIG,
  webManifest,
} from './run-fixtures.js';

async function eventually<T>(what: string, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('kproxy run (userspace, manifests)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-run-'));
  const pods: { server: Server; port: number }[] = [];
  let child: ChildProcess | undefined;
  let stdout = '';
  let stderr = '';

  before(async () => {
    pods.push(await startHttpPod('pod-1'), await startHttpPod('pod-2'));
    writeFileSync(join(dir, 'config.yaml'), USERSPACE_CONFIG);
    writeFileSync(
      join(dir, 'web.yaml'),
      webManifest({ clusterIP: '10.96.0.50', endpointPort: pods[0]?.port ?? 0 }),
    );
  });

  after(() => {
    child?.kill('SIGKILL');
    for (const pod of pods) pod.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('proxies the Service, follows a manifest change, and exits 0 on SIGTERM', async () => {
    const proc = spawnKproxyRun(
      join(dir, 'config.yaml'),
      ['--manifests', join(dir, 'web.yaml')],
      ['--v', '2'],
    );
    child = proc;
    proc.stdout?.on('data', (chunk) => (stdout += chunk));
    proc.stderr?.on('data', (chunk) => (stderr += chunk));
    const frontendPort = await eventually('the printed frontend', () => {
      const match = /demo\/web:http 10\.96\.0\.50:80 -> 127\.0\.0\.1:(\d+)/.exec(stdout);
      return match ? Number(match[1]) : undefined;
    });
    assert.equal(await fetchText(frontendPort), 'pod-1');

    writeFileSync(
      join(dir, 'web.yaml'),
      webManifest({ clusterIP: '10.96.0.50', endpointPort: pods[1]?.port ?? 0 }),
    );
    await eventually('traffic moved to pod-2', async () =>
      (await fetchText(frontendPort)) === 'pod-2' ? true : undefined,
    );

    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.match(stderr, /^I\d{4} [\d:.]+ +\d+ server_linux\.go\] "Using userspace Proxier"/m);
    assert.match(stderr, /"SyncProxyRules complete"/);
  });

  it('exits 2 for bad usage: no source, or an unknown mode', () => {
    const noSource = spawnSync(process.execPath, [KPROXY, 'run', '--config', join(dir, 'config.yaml')], {
      env: { ...process.env, KUBERNETES_SERVICE_HOST: '' },
      encoding: 'utf8',
    });
    assert.equal(noSource.status, 2);
    assert.match(noSource.stderr, /no source/);
    const badMode = spawnSync(
      process.execPath,
      [KPROXY, 'run', '--config', join(dir, 'config.yaml'), '--manifests', dir, '--proxy-mode', 'magic'],
      { encoding: 'utf8' },
    );
    assert.equal(badMode.status, 2);
    assert.match(
      badMode.stderr,
      /--proxy-mode: mode: must be one of iptables, nftables, ipvs, userspace.*"magic"/,
    );
  });

  it('kproxy state prints the chosen endpoints, and exits 2 naming file:line for a bad object', () => {
    const good = spawnSync(
      process.execPath,
      [
        KPROXY,
        'state',
        '--config',
        join(dir, 'config.yaml'),
        '--manifests',
        join(dir, 'web.yaml'),
        '--hostname-override',
        'node-a',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(good.status, 0, good.stderr);
    assert.match(
      good.stdout,
      new RegExp(`demo/web:http/TCP +10\\.96\\.0\\.50:80 .*127\\.0\\.0\\.1:${pods[1]?.port}\\*`),
    );
    writeFileSync(
      join(dir, 'bad.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata: { name: "x y" }\nspec: { clusterIP: 10.96.0.9 }\n',
    );
    const bad = spawnSync(
      process.execPath,
      [KPROXY, 'state', '--config', join(dir, 'config.yaml'), '--manifests', dir],
      { encoding: 'utf8' },
    );
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /bad\.yaml:1: Service "x y": metadata\.name: Invalid value/);
    assert.match(bad.stdout, /demo\/web:http/);
  });
});

describe('kproxy run (userspace, Kubernetes API)', () => {
  const api = new FakeApiServer();
  const dir = mkdtempSync(join(tmpdir(), 'kproxy-run-api-'));
  let pod: { server: Server; port: number } | undefined;
  let child: ChildProcess | undefined;

  before(async () => {
    pod = await startHttpPod('api-pod');
    await api.start();
    writeFileSync(join(dir, 'config.yaml'), USERSPACE_CONFIG);
    const [svc, slice] = webManifest({ clusterIP: '10.96.0.50', endpointPort: pod.port })
      .split('---')
      .map((text) => parse(text) as KubeObject);
    if (svc) api.upsert('services', svc);
    if (slice) api.upsert('endpointslices', slice);
  });

  after(async () => {
    child?.kill('SIGKILL');
    pod?.server.close();
    await api.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists and watches through --master, then proxies to the endpoint it read', async () => {
    let stdout = '';
    const proc = spawnKproxyRun(join(dir, 'config.yaml'), ['--master', api.url]);
    child = proc;
    proc.stdout?.on('data', (chunk) => (stdout += chunk));
    const frontendPort = await eventually('the printed frontend', () => {
      const match = /demo\/web:http 10\.96\.0\.50:80 -> 127\.0\.0\.1:(\d+)/.exec(stdout);
      return match ? Number(match[1]) : undefined;
    });
    assert.equal(await fetchText(frontendPort), 'api-pod');
    assert.ok(api.openWatches() >= 2, 'Services and EndpointSlices are watched');
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    assert.equal(await exited, 0);
  });

  it('kproxy state reads the cluster through --master; an unreachable server times out with exit 1', async () => {
    const args = (master: string, extra: string[] = []) => [
      KPROXY,
      'state',
      '--config',
      join(dir, 'config.yaml'),
      '--master',
      master,
      '--hostname-override',
      'node-a',
      ...extra,
    ];
    const result = await runAsync(args(api.url));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /demo\/web:http\/TCP +10\.96\.0\.50:80 .*127\.0\.0\.1:\d+\*/);
    const unreachable = await runAsync(args('http://127.0.0.1:9', ['--timeout', '1']));
    assert.equal(unreachable.status, 1);
    assert.match(unreachable.stderr, /initial lists did not complete within 1s/);
  });
});

/** Runs a command without blocking this process (the fake API server must keep answering). */
function runAsync(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, args);
    let stdout = '';
    let stderr = '';
    proc.stdout?.on('data', (chunk) => (stdout += chunk));
    proc.stderr?.on('data', (chunk) => (stderr += chunk));
    proc.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

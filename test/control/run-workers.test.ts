import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventually, freePort } from '../servers/fixtures.js';
import { fetchText, spawnKproxyRun, startHttpPod, USERSPACE_CONFIG, webManifest } from './run-fixtures.js';

const PODS = ['127.0.0.1', '127.0.0.2'];

/** A request on a new connection; the body, or undefined when it failed. */
const answer = (port: number) => fetchText(port).catch(() => undefined);

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
    // One pod per address, on the same port, each answering with its address.
    const first = await startHttpPod(PODS[0] ?? '', PODS[0]);
    const second = await startHttpPod(PODS[1] ?? '', PODS[1], first.port);
    pods = [first.server, second.server];
    writeFileSync(join(dir, 'config.yaml'), USERSPACE_CONFIG);
    writeFileSync(
      join(dir, 'web.yaml'),
      webManifest({ clusterIP: '10.96.0.51', endpointPort: first.port, addresses: PODS }),
    );
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
    const proc = spawnKproxyRun(
      join(dir, 'config.yaml'),
      ['--manifests', join(dir, 'web.yaml')],
      ['--metrics-bind-address', `127.0.0.1:${metricsPort}`, '--userspace-workers', '2'],
    );
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

    const answers = await Promise.all(Array.from({ length: 20 }, () => answer(frontend)));
    assert.deepEqual([...new Set(answers)].sort(), PODS, 'both pods answered, no request failed');
    assert.equal(await connectionsCounted(metricsPort), 20, 'the metrics sum both workers');

    const [victim] = workerPids(pid);
    process.kill(victim ?? 0, 'SIGKILL');
    const afterKill = await Promise.all(Array.from({ length: 10 }, () => answer(frontend)));
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
    const later = await Promise.all(Array.from({ length: 20 }, () => answer(frontend)));
    assert.ok(later.every((answer) => answer !== undefined));
    // What the dead worker had counted at the last scrape stays in the total (it took nothing after).
    assert.equal(await connectionsCounted(metricsPort), 50);

    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    proc.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.deepEqual(workerPids(pid), []);
  });
});

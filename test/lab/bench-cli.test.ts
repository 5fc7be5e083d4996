import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import type { LabCluster } from '../../src/lab/backends/lab-backend.js';
import { UserspaceLabBackend } from '../../src/lab/backends/userspace-lab-backend.js';
import { parseLabMode } from '../../src/lab/lab-mode.js';
import type { LoadSummary } from '../../src/lab/load/summarize.js';

const run = promisify(execFile);
const KPROXY = new URL('../../bin/kproxy.js', import.meta.url).pathname;

async function bench(args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [KPROXY, 'bench', ...args], { timeout: 60_000 });
  return stdout;
}

let cluster: LabCluster;
let backend: UserspaceLabBackend;
let serviceUrl = '';

before(async () => {
  backend = new UserspaceLabBackend();
  cluster = await backend.startCluster(3);
  const frontend = await backend.start(parseLabMode('ipvs:rr'), cluster.state());
  serviceUrl = `http://${frontend.host}:${frontend.port}/`;
});

after(async () => {
  await backend.stop();
  await cluster.stop();
  rmSync(postDir, { recursive: true, force: true });
});

function podCounts(): Map<string, number> {
  return new Map(cluster.allPods().map((pod) => [pod.name, pod.requests()]));
}

test('the counts kproxy bench reports equal what the backends saw (attributed by header)', async () => {
  const before = podCounts();
  const summary = JSON.parse(await bench(['--json', '-n', '300', '-c', '20', serviceUrl])) as LoadSummary;
  assert.equal(summary.completeRequests, 300);
  assert.deepEqual(
    summary.distribution.map((share) => [share.pod, share.connections]),
    [...podCounts()].map(([pod, count]) => [pod, count - (before.get(pod) ?? 0)]),
  );
  assert.deepEqual(
    summary.distribution.map((share) => share.connections),
    [100, 100, 100],
    'rr',
  );
  assert.ok(summary.fairness.pValue > 0.99);
});

test('attribution by a body pattern gives the same counts as the backends saw', async () => {
  const before = podCounts();
  const args = [
    '--json',
    '-k',
    '-n',
    '120',
    '-c',
    '4',
    '--pod-header',
    'X-Nothing',
    '--pod-pattern',
    '<h1>([^<]+)</h1>',
  ];
  const summary = JSON.parse(await bench([...args, serviceUrl])) as LoadSummary;
  const seen = [...podCounts()].map(([pod, count]) => [pod, count - (before.get(pod) ?? 0)]);
  assert.deepEqual(
    summary.distribution.map((share) => [share.pod, share.connections]),
    seen,
  );
  assert.equal(summary.keepAliveRequests, 120 - 4, 'every request but each connection’s first reuses it');
});

const abAvailable = spawnSync('ab', ['-V']).status === 0;

/**
 * `Name:  value` lines of ab's report, in order, up to the end of its percentile table. ab's
 * WARNING/ERROR lines are left out: whether they appear depends on the run's timings.
 */
function fieldNames(report: string): string[] {
  const names: string[] = [];
  for (const line of report.split('\n')) {
    if (line.startsWith('Latency (ms):')) break;
    if (/^(WARNING|ERROR):/.test(line)) continue;
    const field = /^([A-Z][A-Za-z -]*):\s/.exec(line) ?? /^\s+[\d.]+ (kb\/s \w+)$/.exec(line);
    const percent = /^\s+(\d+%)\s+\d+/.exec(line);
    if (field?.[1]) names.push(field[1]);
    else if (percent?.[1]) names.push(percent[1]);
  }
  return names;
}

const postDir = mkdtempSync(join(tmpdir(), 'kproxy-bench-post-'));
const postFile = join(postDir, 'body.json');
writeFileSync(postFile, '{"hello":"pods"}');

test('against ab on the same target and settings, the report has the same fields in the same order', {
  skip: abAvailable ? false : 'ab (apache2-utils) is not installed',
}, async () => {
  for (const flags of [
    ['-n', '200', '-c', '10'],
    ['-k', '-n', '200', '-c', '10'],
  ]) {
    const url = `http://${cluster.allPods()[0]?.endpoint}/`;
    const ab = await run('ab', [...flags, url], { timeout: 60_000 });
    const ours = await bench([...flags, url]);
    assert.deepEqual(fieldNames(ours), fieldNames(ab.stdout), `flags ${flags.join(' ')}`);
    assert.ok(fieldNames(ours).includes('Time per request'));
  }
});

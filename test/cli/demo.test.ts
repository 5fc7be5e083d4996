import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { type CliResult, runCli } from './run-cli.js';

/** The side-by-side table at the end of the demo: mode → its row's cells. */
function comparisonRows(stdout: string): Map<string, string[]> {
  const table = stdout.slice(stdout.lastIndexOf('== side by side'));
  const lines = table.split('\n').filter((line) => /^(iptables|nftables|ipvs|userspace)/.test(line));
  return new Map(lines.map((line) => line.split(/\s{2,}/)).map((cells) => [cells[0] ?? '', cells.slice(1)]));
}

describe("kproxy demo: the seed's experiment, three pods, -n 1000 -c 1000", () => {
  let result: CliResult;
  let rows: Map<string, string[]>;

  before(async () => {
    result = await runCli(['demo']);
    rows = comparisonRows(result.stdout);
  });

  it('runs iptables, ipvs:rr, ipvs:sh and ipvs:lc and exits 0', () => {
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual([...rows.keys()], ['iptables', 'ipvs:rr', 'ipvs:sh', 'ipvs:lc']);
  });

  it('every mode answers all 1000 requests, none failed', () => {
    for (const [mode, cells] of rows) {
      const pods = cells.slice(0, 3).map(Number);
      assert.equal(
        pods.reduce((a, b) => a + b, 0),
        1000,
        `${mode}: ${cells.join(' ')}`,
      );
      assert.equal(cells[3], '0', `${mode} failed requests`);
    }
  });

  it('rr gives each pod 333 or 334', () => {
    for (const count of (rows.get('ipvs:rr') ?? []).slice(0, 3).map(Number))
      assert.ok(count === 333 || count === 334);
  });

  it('sh with one client IP sends every connection to one pod', () => {
    const counts = (rows.get('ipvs:sh') ?? []).slice(0, 3).map(Number);
    assert.deepEqual(
      [...counts].sort((a, b) => a - b),
      [0, 0, 1000],
    );
  });

  it('prints ab-style reports and the per-pod spread for each run', () => {
    const occurrences = (field: string) => result.stdout.split(field).length - 1;
    for (const field of [
      'Complete requests:',
      'Failed requests:',
      'Requests per second:',
      'Connection Times (ms)',
    ]) {
      assert.equal(occurrences(field), 4, field);
    }
    // ab prints two "Time per request" lines: per concurrent batch, and across all requests.
    assert.equal(occurrences('Time per request:'), 8);
    assert.match(result.stdout, /Percentage of the requests served within a certain time/);
    assert.match(result.stdout, /chi-square [\d.]+ \(df 2\), p = /);
  });
});

describe('kproxy demo options and errors', () => {
  it('takes modes, request count, concurrency and pod count', async () => {
    const { code, stdout } = await runCli([
      'demo',
      '--modes',
      'ipvs:rr',
      '-n',
      '100',
      '-c',
      '10',
      '--pods',
      '4',
    ]);
    assert.equal(code, 0);
    const cells = comparisonRows(stdout).get('ipvs:rr') ?? [];
    assert.deepEqual(cells.slice(0, 4).map(Number), [25, 25, 25, 25]);
  });

  it('takes the mode from the seed ConfigMap (ipvs, rr)', async () => {
    const { code, stdout } = await runCli([
      'demo',
      '--config',
      'test/cli/fixtures/configmap-ipvs-rr.yaml',
      '-n',
      '30',
      '-c',
      '3',
    ]);
    assert.equal(code, 0);
    assert.deepEqual([...comparisonRows(stdout).keys()], ['ipvs:rr']);
  });

  it('rejects an unknown mode with exit code 2 and the known modes', async () => {
    const { code, stderr } = await runCli(['demo', '--modes', 'ipvs:rr,ebpf']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown proxy mode "ebpf"/);
    assert.match(stderr, /iptables, nftables, ipvs, userspace/);
  });

  it('rejects an unknown scheduler with exit code 2 and the known schedulers', async () => {
    const { code, stderr } = await runCli(['demo', '--modes', 'ipvs:lcx']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown IPVS scheduler "lcx"/);
    assert.match(stderr, /\brr\b.*\blc\b|\blc\b.*\brr\b/);
  });

  it('rejects a bad count with exit code 2', async () => {
    const { code, stderr } = await runCli(['demo', '-n', 'many']);
    assert.equal(code, 2);
    assert.match(stderr, /"many" is not a positive integer/);
  });
});

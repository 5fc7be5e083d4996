/**
 * ab's flags as `kproxy bench` takes them, seen on the wire of small loopback servers, and
 * compared with what ab itself does against the same server where ab can run.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CliResult, runCli, runProcess } from '../cli/run-cli.js';
import { selfSigned, startHttpRecorder, startHttpsRecorder, type WireServer } from './wire-servers.js';

const abAvailable = spawnSync('ab', ['-V']).status === 0;
const noAb = abAvailable ? false : 'ab (apache2-utils) is not installed';

function runAb(args: readonly string[]): Promise<CliResult> {
  return runProcess('ab', args, 30_000);
}

const bench = (args: readonly string[]) => runCli(['bench', ...args]);

/** `Name:` fields of a text report, up to the percentile table. */
function fieldNames(report: string): string[] {
  return report
    .split('\n')
    .map((line) => /^([A-Z][A-Za-z/ -]*):\s/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined && !/^(WARNING|ERROR)$/.test(name));
}

/** The header cells (<th>) of each row of an HTML table, after checking it is one well-formed table. */
function htmlRowNames(output: string): string[][] {
  const table = /<table[^>]*>\n([\s\S]*?)\n<\/table>/.exec(output);
  assert.ok(table?.[1], `no <table>…</table> in:\n${output}`);
  return table[1].split('\n').map((row) => {
    assert.match(row, /^<tr[^>]*>.*<\/tr>$/, `not one table row: ${row}`);
    for (const tag of ['th', 'td']) {
      const opened = row.match(new RegExp(`<${tag}[ >]`, 'g'))?.length ?? 0;
      assert.equal(
        row.match(new RegExp(`</${tag}>`, 'g'))?.length ?? 0,
        opened,
        `unbalanced <${tag}>: ${row}`,
      );
    }
    return [...row.matchAll(/<th[^>]*>([^<]*)<\/th>/g)].map((match) => match[1] ?? '');
  });
}

describe('kproxy bench: ab flags on the wire', () => {
  let plain: WireServer;
  let secure: WireServer;
  let dir = '';
  let clientPemFile = '';

  before(async () => {
    plain = await startHttpRecorder();
    secure = await startHttpsRecorder(selfSigned('localhost'));
    dir = mkdtempSync(join(tmpdir(), 'kproxy-ab-flags-'));
    const client = selfSigned('bench-client');
    clientPemFile = join(dir, 'client.pem');
    writeFileSync(clientPemFile, `${client.cert}${client.key}`);
  });

  after(async () => {
    await plain.close();
    await secure.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('-X sends the absolute URL to the proxy and -P adds Proxy-Authorization, as ab writes them', async () => {
    plain.heads.length = 0;
    const target = 'http://pods.example:8080/spread?x=1';
    const result = await bench(['-n', '2', '-X', `127.0.0.1:${plain.port}`, '-P', 'alice:s3cret', target]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(plain.heads.length, 2);
    const lines = (plain.heads[0] ?? '').split('\r\n');
    assert.equal(lines[0], `GET ${target} HTTP/1.0`);
    assert.ok(lines.includes(`Proxy-Authorization: Basic ${Buffer.from('alice:s3cret').toString('base64')}`));
    assert.ok(lines.includes('Host: pods.example:8080'));
    assert.match(result.stdout, /Benchmarking pods\.example \[through 127\.0\.0\.1:\d+\] \(be patient\)/);
    assert.match(result.stdout, /^Server Hostname: {8}pods\.example$/m);
  });

  test('-X/-P: the same request line and proxy credentials as ab sends', { skip: noAb }, async () => {
    const target = 'http://pods.example:8080/spread';
    const flags = ['-n', '1', '-X', `127.0.0.1:${plain.port}`, '-P', 'alice:s3cret', target];
    plain.heads.length = 0;
    assert.equal((await runAb(flags)).code, 0);
    assert.equal((await bench(flags)).code, 0);
    const [ab, ours] = plain.heads.map((head) => head.split('\r\n'));
    assert.equal(ours?.[0], ab?.[0]);
    const credentials = (head: string[] | undefined) =>
      head?.find((line) => line.startsWith('Proxy-Authorization'));
    assert.equal(credentials(ours), credentials(ab));
  });

  test('-w prints ab’s HTML table, -x/-y/-z go into it, and kproxy’s spread rows follow', async () => {
    const result = await bench([
      '-n',
      '6',
      '-c',
      '2',
      '-x',
      'id=t',
      '-y',
      'class=r',
      '-z',
      'class=d',
      url(plain),
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /<table id=t>/);
    assert.doesNotMatch(result.stdout, /Benchmarking/);
    const names = htmlRowNames(result.stdout).flat();
    for (const name of ['Server Software:', 'Complete requests:', 'Requests per second:', 'Total:']) {
      assert.ok(names.includes(name), name);
    }
    assert.ok(names.includes('Spread over pods') && names.includes('Pod'));
    assert.match(result.stdout, /<tr class=r><td class=d>pod-a<\/td><td class=d>6<\/td>/);
  });

  test('-w: the same rows, in the same order, as ab -w', { skip: noAb }, async () => {
    for (const flags of [['-w'], ['-w', '-k', '-p', clientPemFile, '-T', 'text/plain']]) {
      const args = [...flags, '-n', '4', url(plain)];
      const ab = await runAb(args);
      const ours = await bench(args);
      const abRows = htmlRowNames(ab.stdout);
      assert.deepEqual(htmlRowNames(ours.stdout).slice(0, abRows.length), abRows, flags.join(' '));
    }
  });

  test('without -r a receive error stops the run, with -r it is a Receive failure; as ab', async () => {
    plain.reset = (n) => n % 2 === 0;
    try {
      const stopped = await bench(['-n', '10', url(plain)]);
      assert.equal(stopped.code, 1);
      assert.match(stopped.stdout, /^Total of 1 requests completed$/m);
      assert.doesNotMatch(stopped.stdout, /Complete requests/);
      assert.match(stopped.stderr, /Connection reset by peer \(104, ECONNRESET\)/);
      const going = await bench(['-r', '-n', '10', url(plain)]);
      assert.equal(going.code, 0, going.stderr);
      assert.match(going.stdout, /Receive: 5,/);
      if (!abAvailable) return;
      const abStopped = await runAb(['-n', '10', url(plain)]);
      assert.notEqual(abStopped.code, 0);
      assert.match(abStopped.stdout, /Total of 1 requests completed/);
      const abGoing = await runAb(['-r', '-n', '10', url(plain)]);
      assert.equal(abGoing.code, 0);
      assert.match(abGoing.stdout, /Receive: 5,/);
    } finally {
      plain.reset = () => false;
    }
  });

  test('with --threads, a receive error in one thread stops the others too', async () => {
    let seen = 0;
    plain.reset = () => ++seen === 3;
    try {
      const stopped = await bench(['-n', '4000', '-c', '2', '--threads', '2', url(plain)]);
      assert.equal(stopped.code, 1);
      const completed = Number(/^Total of (\d+) requests completed$/m.exec(stopped.stdout)?.[1]);
      // The threads share 4000 requests: a thread left running would complete the rest of them.
      assert.ok(completed >= 2 && completed < 2000, `completed ${completed}`);
    } finally {
      plain.reset = () => false;
    }
  });

  test('an IPv6 URL: connects to ::1 and names the host as ab does', async (t) => {
    const v6 = await startHttpRecorder('::1').catch(() => undefined);
    if (!v6) return t.skip('no IPv6 loopback here');
    try {
      const result = await bench(['-n', '3', `http://[::1]:${v6.port}/`]);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(v6.heads.length, 3);
      assert.ok(v6.heads[0]?.includes(`\r\nHost: [::1]:${v6.port}`));
      assert.match(result.stdout, /^Benchmarking ::1 \(be patient\)$/m);
      assert.match(result.stdout, /^Server Hostname: {8}::1$/m);
    } finally {
      await v6.close();
    }
  });

  test('-V prints a version line in ab’s form, naming kproxy; -b is accepted with a notice', async () => {
    const version = await bench(['-V']);
    assert.equal(version.code, 0);
    assert.match(
      version.stdout,
      /^This is kproxy bench, Version \d+\.\d+\.\d+ <ApacheBench 2\.3 compatible>\n$/,
    );
    const windowed = await bench(['-b', '16384', '-n', '2', url(plain)]);
    assert.equal(windowed.code, 0);
    assert.match(windowed.stderr, /-b 16384 not applied/);
    assert.match(windowed.stdout, /Complete requests: {6}2/);
  });

  test('https: SNI unless -I, -f TLS1.2 negotiates 1.2, -Z picks the cipher, -E sends the client certificate', async () => {
    secure.handshakes.length = 0;
    const https = `https://localhost:${secure.port}/`;
    const first = await bench(['-n', '2', https]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(
      secure.handshakes.map((h) => [h.protocol, h.servername, h.clientCn]),
      [
        ['TLSv1.3', 'localhost', undefined],
        ['TLSv1.3', 'localhost', undefined],
      ],
    );
    assert.match(first.stdout, /^SSL\/TLS Protocol: {7}TLSv1\.3,TLS_AES_256_GCM_SHA384,2048,256$/m);
    assert.match(first.stdout, /^Server Temp Key: {8}X25519 253 bits$/m);
    assert.match(first.stdout, /^TLS Server Name: {8}localhost$/m);

    secure.handshakes.length = 0;
    const cipher = 'ECDHE-RSA-AES128-GCM-SHA256';
    const pinned = await bench(['-n', '1', '-I', '-f', 'TLS1.2', '-Z', cipher, '-E', clientPemFile, https]);
    assert.equal(pinned.code, 0, pinned.stderr);
    assert.deepEqual(secure.handshakes, [
      { protocol: 'TLSv1.2', cipher, servername: false, clientCn: 'bench-client' },
    ]);
    assert.match(pinned.stdout, new RegExp(`^SSL/TLS Protocol: {7}TLSv1\\.2,${cipher},2048,128$`, 'm'));
    assert.doesNotMatch(pinned.stdout, /TLS Server Name/);
  });

  test('-f SSL3, an unknown -Z cipher and an -E file without a key are clear usage errors', async () => {
    const https = `https://localhost:${secure.port}/`;
    const ssl3 = await bench(['-f', 'SSL3', '-n', '1', https]);
    assert.equal(ssl3.code, 2);
    assert.match(ssl3.stderr, /SSL3 is not available/);
    const cipher = await bench(['-f', 'TLS1.2', '-Z', 'NO-SUCH-CIPHER', '-n', '1', https]);
    assert.equal(cipher.code, 2);
    assert.match(cipher.stderr, /TLS settings refused \(-Z\/-f\)/);
    const certOnly = join(dir, 'cert-only.pem');
    writeFileSync(certOnly, selfSigned('no-key').cert);
    const noKey = await bench(['-E', certOnly, '-n', '1', https]);
    assert.equal(noKey.code, 2);
    assert.match(noKey.stderr, /TLS settings refused \(-E\)/);
  });

  test('https: the same report fields as ab’s, TLS lines included', { skip: noAb }, async () => {
    const args = ['-n', '4', '-f', 'TLS1.2', `https://localhost:${secure.port}/`];
    const ab = await runAb(args);
    const ours = await bench(args);
    const abFields = fieldNames(ab.stdout);
    assert.ok(abFields.includes('SSL/TLS Protocol') && abFields.includes('TLS Server Name'));
    assert.deepEqual(fieldNames(ours.stdout).slice(0, abFields.length), abFields);
  });
});

function url(server: WireServer): string {
  return `http://127.0.0.1:${server.port}/`;
}

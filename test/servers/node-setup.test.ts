import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  applyNodeSetup,
  conntrackMaxFor,
  defaultConntrackSettings,
  type NodeSetupPaths,
} from '../../src/servers/node-setup.js';
import { captureStderr } from './fixtures.js';

describe('conntrack sizing', () => {
  const table = [
    { what: 'the seed: 2 cores × 32768 is below min', maxPerCore: 32768, min: 131072, cores: 2, max: 131072 },
    { what: '8 cores scale past min', maxPerCore: 32768, min: 131072, cores: 8, max: 262144 },
    { what: 'maxPerCore 0 leaves the kernel alone', maxPerCore: 0, min: 131072, cores: 8, max: 0 },
    { what: 'min 0', maxPerCore: 1000, min: 0, cores: 3, max: 3000 },
  ];
  for (const row of table) {
    it(row.what, () => assert.equal(conntrackMaxFor(row, row.cores), row.max));
  }
});

describe('applying node settings (to files in a temp directory, never the host)', () => {
  let root: string;
  let paths: NodeSetupPaths;
  const netfilter = (name: string) => join(root, 'proc/sys/net/netfilter', name);

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'kp-node-setup-'));
    await mkdir(join(root, 'proc/sys/net/netfilter'), { recursive: true });
    await mkdir(join(root, 'sys'), { recursive: true });
    paths = {
      oomScoreAdj: join(root, 'oom_score_adj'),
      procSys: join(root, 'proc/sys'),
      conntrackHashsize: join(root, 'sys/hashsize'),
    };
    await writeFile(paths.oomScoreAdj, '0\n');
    await writeFile(netfilter('nf_conntrack_max'), '65536\n');
    await writeFile(netfilter('nf_conntrack_tcp_timeout_established'), '432000\n');
    await writeFile(netfilter('nf_conntrack_tcp_timeout_close_wait'), '3600\n');
    await writeFile(paths.conntrackHashsize, '16384\n');
  });
  after(() => rm(root, { recursive: true, force: true }));

  it('writes oomScoreAdj, nf_conntrack_max, hashsize ≥ max/4 and the TCP timeouts, logging like kube-proxy', async () => {
    const { result, lines } = await captureStderr(() =>
      applyNodeSetup({ oomScoreAdj: -999, conntrack: defaultConntrackSettings, paths, cores: 2 }),
    );
    assert.equal((await readFile(paths.oomScoreAdj, 'utf8')).trim(), '-999');
    assert.equal((await readFile(netfilter('nf_conntrack_max'), 'utf8')).trim(), '131072');
    assert.equal((await readFile(paths.conntrackHashsize, 'utf8')).trim(), '32768');
    assert.equal((await readFile(netfilter('nf_conntrack_tcp_timeout_established'), 'utf8')).trim(), '86400');
    assert.deepEqual(
      result.map((setting) => setting.outcome),
      ['set', 'set', 'set', 'set', 'unchanged'],
    );
    assert.ok(lines.some((line) => line.endsWith('"Setting nf_conntrack_max" nf_conntrack_max=131072')));
  });

  it('logs a setting it cannot write with what to do, and goes on with the others', async () => {
    const readOnlyDir = join(root, 'ro');
    await mkdir(readOnlyDir);
    // Root ignores file modes, so make the write fail the way a missing /proc entry does.
    const broken = { ...paths, oomScoreAdj: join(readOnlyDir, 'missing', 'oom_score_adj') };
    const { result, lines } = await captureStderr(() =>
      applyNodeSetup({
        oomScoreAdj: -999,
        conntrack: { ...defaultConntrackSettings, tcpEstablishedTimeoutSeconds: 3600 },
        paths: broken,
        cores: 2,
      }),
    );
    assert.equal(result[0]?.outcome, 'failed');
    assert.equal((await readFile(netfilter('nf_conntrack_tcp_timeout_established'), 'utf8')).trim(), '3600');
    const error = lines.find((line) => line.startsWith('E'));
    assert.ok(error?.includes('privileged: true'), error);
  });

  it('sets tcpBeLiberal and the UDP timeouts only when asked', async () => {
    const result = await captureStderr(() =>
      applyNodeSetup({
        oomScoreAdj: null,
        conntrack: {
          maxPerCore: 0,
          min: 0,
          tcpEstablishedTimeoutSeconds: 0,
          tcpCloseWaitTimeoutSeconds: 0,
          tcpBeLiberal: true,
          udpTimeoutSeconds: 30,
          udpStreamTimeoutSeconds: 120,
        },
        paths,
        cores: 2,
      }),
    );
    assert.deepEqual(
      result.result.map((setting) => [basename(setting.path), setting.value]),
      [
        ['nf_conntrack_tcp_be_liberal', 1],
        ['nf_conntrack_udp_timeout', 30],
        ['nf_conntrack_udp_timeout_stream', 120],
      ],
    );
    assert.equal((await readFile(netfilter('nf_conntrack_udp_timeout_stream'), 'utf8')).trim(), '120');
  });

  it('leaves everything alone when oomScoreAdj is null and maxPerCore and the timeouts are 0', async () => {
    const result = await applyNodeSetup({
      oomScoreAdj: null,
      conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeoutSeconds: 0, tcpCloseWaitTimeoutSeconds: 0 },
      paths,
      cores: 2,
    });
    assert.deepEqual(result, []);
  });
});

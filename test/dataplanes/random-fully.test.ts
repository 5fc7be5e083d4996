import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { IptablesDataplane } from '../../src/dataplanes/iptables/iptables-dataplane.js';
import { renderIptablesRestore } from '../../src/dataplanes/iptables/render.js';
import { iptablesHasRandomFully } from '../../src/dataplanes/iptables/top-level-rules.js';
import { createNetns, deleteNetns, runChecked } from '../../src/dataplanes/netns.js';
import { nftRunner } from '../../src/dataplanes/nftables/nft-runner.js';
import { NftablesDataplane } from '../../src/dataplanes/nftables/nftables-dataplane.js';
import { renderNftablesTable } from '../../src/dataplanes/nftables/nftables-renderer.js';
import { traceFlow } from '../fakes/iptables-tracer.js';
import { endpoint, renderOptions, stateOf } from './iptables/fixtures.js';
import { kernelTestsUnavailable, skipReason } from './iptables/netns-lab.js';

/** Masquerading picks fully random source ports, as kube-proxy asks for in both modes. */

const state = stateOf({
  namespace: 'ns1',
  name: 'svc1',
  port: 80,
  clusterIP: '172.30.0.41',
  endpoints: [endpoint('10.180.0.1', 80), endpoint('10.180.2.1', 80)],
});
const masqueradeRule =
  '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE';

describe('iptables mode: MASQUERADE --random-fully', () => {
  test('the one MASQUERADE rule asks for fully random ports', () => {
    const lines = renderIptablesRestore(state, renderOptions()).split('\n');
    assert.deepEqual(
      lines.filter((line) => line.includes('MASQUERADE')),
      [`${masqueradeRule} --random-fully`],
    );
  });

  test('not with an iptables older than 1.6.2', () => {
    const lines = renderIptablesRestore(state, renderOptions({ masqueradeRandomFully: false })).split('\n');
    assert.deepEqual(
      lines.filter((line) => line.includes('MASQUERADE')),
      [masqueradeRule],
    );
  });

  test('the packet tracer still sees the masquerade', () => {
    const flow = traceFlow(renderIptablesRestore(state, renderOptions()), {
      src: '203.0.113.2',
      dst: '172.30.0.41',
      port: 80,
      localAddresses: [],
    });
    assert.deepEqual(flow, { output: '10.180.0.1:80, 10.180.2.1:80', masquerade: true });
  });

  const versions: [string, boolean][] = [
    ['iptables v1.8.9 (nf_tables)', true],
    ['iptables v1.8.7 (legacy)', true],
    ['iptables v1.6.2', true],
    ['iptables v1.6.1', false],
    ['iptables v1.4.21', false],
    ['iptables v2.0.0', true],
    ['', false],
  ];
  for (const [output, expected] of versions) {
    test(`\`iptables --version\` "${output}": ${expected ? '' : 'no '}--random-fully`, () =>
      assert.equal(iptablesHasRandomFully(output), expected));
  }
});

test('nftables mode: both masquerade rules are fully random', () => {
  const lines = renderNftablesTable(state, renderOptions()).split('\n');
  const masquerades = lines.filter((line) => line.includes('masquerade')).map((line) => line.trim());
  assert.equal(masquerades.length, 2);
  for (const line of masquerades) assert.match(line, / masquerade fully-random$/);
});

const skip = skipReason(await kernelTestsUnavailable());

describe('the kernel accepts fully random masquerading', { skip, timeout: 30_000 }, () => {
  const netns = `kp-rndf-${process.pid}`;
  before(() => createNetns(netns));
  after(() => deleteNetns(netns));

  test('iptables: iptables-save shows MASQUERADE --random-fully', async () => {
    const dataplane = new IptablesDataplane({ families: [renderOptions()], netns, syncPeriodMs: 60_000 });
    assert.equal((await dataplane.sync(state, new Set())).failed.size, 0);
    const saved = await runChecked(['iptables-save', '-t', 'nat'], { netns });
    assert.match(saved, /-A KUBE-POSTROUTING .*-j MASQUERADE --random-fully/);
    await dataplane.cleanup();
  });

  test('nftables: the table lists both masquerades as fully-random', async () => {
    const runner = nftRunner(['ip', 'netns', 'exec', netns, 'nft']);
    const dataplane = new NftablesDataplane({ render: renderOptions(), runner });
    assert.equal((await dataplane.sync(state, new Set())).failed.size, 0);
    const listed = await runChecked(['nft', 'list', 'chain', 'ip', 'kproxy', 'nat-postrouting'], { netns });
    assert.equal(listed.match(/masquerade fully-random/g)?.length, 2, listed);
    await dataplane.cleanup();
  });
});

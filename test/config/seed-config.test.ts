import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadProxyConfig } from '../../src/config/load-config.js';
import { problemsOf, writeConfig } from './config-test-helpers.js';

const fixture = (name: string) => fileURLToPath(new URL(`fixtures/${name}`, import.meta.url));
const shared = (name: string) => fileURLToPath(new URL(`../../../shared/seed/${name}`, import.meta.url));

describe('the seed configuration', () => {
  it('config.conf loads unchanged and resolves to iptables with kube-proxy defaults', () => {
    const config = loadProxyConfig(fixture('config.conf'));
    assert.equal(config.mode, 'iptables');
    assert.equal(config.ipvs.scheduler, 'rr');
    assert.equal(config.iptables.syncPeriod, 30_000);
    assert.equal(config.iptables.minSyncPeriod, 1000);
    assert.equal(config.iptables.masqueradeBit, 14);
    assert.equal(config.iptables.localhostNodePorts, true);
    assert.equal(config.conntrack.maxPerCore, 32768);
    assert.equal(config.conntrack.tcpCloseWaitTimeout, 3_600_000);
    assert.equal(config.healthzBindAddress, '0.0.0.0:10256');
    assert.equal(config.metricsBindAddress, '127.0.0.1:10249');
    assert.equal(config.configSyncPeriod, 900_000);
    assert.equal(config.oomScoreAdj, -999);
    assert.equal(config.clientConnection.kubeconfig, '/var/lib/kube-proxy/kubeconfig.conf');
    assert.equal(config.clientConnection.qps, 5);
    assert.equal(config.clusterCIDR, '10.0.0.0/16,fd12:b5e0:383e::/64');
    assert.equal(config.detectLocalMode, 'ClusterCIDR');
  });

  it('the whole ConfigMap, as kubectl prints it, resolves to ipvs with scheduler rr', () => {
    const config = loadProxyConfig(fixture('configmap-ipvs-rr.yaml'));
    assert.equal(config.mode, 'ipvs');
    assert.equal(config.ipvs.scheduler, 'rr');
    assert.equal(config.ipvs.syncPeriod, 30_000);
    assert.equal(config.ipvs.minSyncPeriod, 0);
  });

  it('the test fixtures are the seed files themselves, when the shared seed is next to the clone', (t) => {
    if (!existsSync(shared('config.conf'))) return t.skip('no ../shared next to this clone');
    for (const name of ['config.conf', 'configmap-ipvs-rr.yaml']) {
      assert.equal(readFileSync(fixture(name), 'utf8'), readFileSync(shared(name), 'utf8'));
      assert.deepEqual(loadProxyConfig(shared(name)), loadProxyConfig(fixture(name)));
    }
  });

  it('a broken field inside the ConfigMap is reported at its line in the ConfigMap file', () => {
    const text = readFileSync(fixture('configmap-ipvs-rr.yaml'), 'utf8')
      .replace('masqueradeBit: null', 'masqueradeBit: 40')
      .replace('mode: "ipvs"', 'mode: "ipvsx"');
    const lines = text.split('\n');
    const lineOf = (needle: string) => lines.findIndex((line) => line.includes(needle)) + 1;
    const problems = problemsOf(text, {}, true);
    assert.deepEqual(
      problems.map((problem) => [problem.where, problem.path]),
      [
        [`FILE:${lineOf('mode: "ipvsx"')}`, 'mode'],
        [`FILE:${lineOf('masqueradeBit: 40')}`, 'iptables.masqueradeBit'],
      ],
    );
  });

  it('a ConfigMap without config.conf is rejected with what it needs', () => {
    const problems = problemsOf('apiVersion: v1\nkind: ConfigMap\ndata:\n  other: x\n', {}, true);
    assert.equal(problems.length, 1);
    assert.match(problems[0]?.message ?? '', /data\."config\.conf"/);
  });

  it('a missing file is a configuration error naming the file', () => {
    assert.throws(() => loadProxyConfig(`${writeConfig('')}.missing`), /ENOENT/);
  });
});

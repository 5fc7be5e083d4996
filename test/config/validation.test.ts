import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { problemsOf, resolveText } from './config-test-helpers.js';

/**
 * [body, field path, line in the file (the two header lines come first), what the message must say].
 * One row per kube-proxy validation rule, and each row breaks exactly that rule.
 */
const rejected: [string, string, number, RegExp][] = [
  ['mode: kernelspace', 'mode', 3, /iptables, nftables, ipvs, userspace, or ""/],
  ['iptables:\n  masqueradeBit: 32', 'iptables.masqueradeBit', 4, /\[0, 31\].*32/],
  ['iptables:\n  masqueradeBit: -1', 'iptables.masqueradeBit', 4, /\[0, 31\]/],
  ['iptables:\n  syncPeriod: -1s', 'iptables.syncPeriod', 4, /greater than 0/],
  ['iptables:\n  minSyncPeriod: -1s', 'iptables.minSyncPeriod', 4, /not be negative/],
  [
    'iptables:\n  syncPeriod: 10s\n  minSyncPeriod: 20s',
    'iptables.syncPeriod',
    4,
    /≥ iptables\.minSyncPeriod \(20s\)/,
  ],
  ['iptables:\n  syncPeriod: 500ms', 'iptables.syncPeriod', 4, /≥ iptables\.minSyncPeriod \(1s\), got 500ms/],
  ['mode: ipvs\nipvs:\n  syncPeriod: 1s\n  minSyncPeriod: 1m', 'ipvs.syncPeriod', 5, /≥ ipvs\.minSyncPeriod/],
  ['mode: ipvs\nipvs:\n  minSyncPeriod: -5s', 'ipvs.minSyncPeriod', 5, /not be negative/],
  ['mode: ipvs\nipvs:\n  tcpTimeout: -1s', 'ipvs.tcpTimeout', 5, /not be negative/],
  ['mode: ipvs\nipvs:\n  tcpFinTimeout: -1s', 'ipvs.tcpFinTimeout', 5, /not be negative/],
  ['mode: ipvs\nipvs:\n  udpTimeout: -1s', 'ipvs.udpTimeout', 5, /not be negative/],
  ['mode: ipvs\nipvs:\n  excludeCIDRs:\n  - 10.0.0.0/8\n  - 10.0.0.0', 'ipvs.excludeCIDRs[1]', 7, /CIDR/],
  ['ipvs:\n  scheduler: fastest', 'ipvs.scheduler', 4, /unknown IPVS scheduler "fastest"; use one of: .*rr/],
  ['mode: nftables\nnftables:\n  masqueradeBit: 99', 'nftables.masqueradeBit', 5, /\[0, 31\]/],
  [
    'mode: nftables\nnftables:\n  syncPeriod: 1s\n  minSyncPeriod: 2s',
    'nftables.syncPeriod',
    5,
    /≥ nftables\.minSyncPeriod/,
  ],
  ['conntrack:\n  maxPerCore: -1', 'conntrack.maxPerCore', 4, /≥ 0/],
  ['conntrack:\n  min: -1', 'conntrack.min', 4, /≥ 0/],
  ['conntrack:\n  tcpEstablishedTimeout: -1s', 'conntrack.tcpEstablishedTimeout', 4, /not be negative/],
  ['conntrack:\n  tcpCloseWaitTimeout: -1s', 'conntrack.tcpCloseWaitTimeout', 4, /not be negative/],
  ['conntrack:\n  udpTimeout: -1s', 'conntrack.udpTimeout', 4, /not be negative/],
  ['conntrack:\n  udpStreamTimeout: -1s', 'conntrack.udpStreamTimeout', 4, /not be negative/],
  ['clientConnection:\n  burst: -1', 'clientConnection.burst', 4, /≥ 0/],
  ['clientConnection:\n  qps: -1', 'clientConnection.qps', 4, /≥ 0/],
  ['oomScoreAdj: 1001', 'oomScoreAdj', 3, /\[-1000, 1000\]/],
  ['oomScoreAdj: -1001', 'oomScoreAdj', 3, /\[-1000, 1000\]/],
  ['configSyncPeriod: -1m', 'configSyncPeriod', 3, /greater than 0/],
  ['bindAddress: node1', 'bindAddress', 3, /IP address/],
  ['healthzBindAddress: 0.0.0.0:0', 'healthzBindAddress', 3, /IP:port .*1–65535/],
  ['healthzBindAddress: localhost:10256', 'healthzBindAddress', 3, /IP:port/],
  ['metricsBindAddress: "::1:10249"', 'metricsBindAddress', 3, /IP:port/],
  ['metricsBindAddress: 127.0.0.1:99999', 'metricsBindAddress', 3, /1–65535/],
  ['clusterCIDR: 10.0.0.0/8,10.1.0.0/16', 'clusterCIDR', 3, /one CIDR per IP family/],
  ['clusterCIDR: 10.0.0.0/8,fd00::/64,10.1.0.0/16', 'clusterCIDR', 3, /one CIDR per IP family/],
  ['clusterCIDR: 10.0.0.0/33', 'clusterCIDR', 3, /CIDR such as/],
  ['clusterCIDR: 10.0.0.0', 'clusterCIDR', 3, /CIDR such as/],
  ['nodePortAddresses:\n- 10.0.0.0/8\n- all', 'nodePortAddresses[1]', 5, /CIDR .*"primary"/],
  [
    'nodePortAddresses:\n- primary\n- 10.0.0.0/8',
    'nodePortAddresses[0]',
    4,
    /"primary" must be the only entry/,
  ],
  [
    'detectLocalMode: PodCIDR',
    'detectLocalMode',
    3,
    /ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix/,
  ],
  ['detectLocalMode: BridgeInterface', 'detectLocal.bridgeInterface', 3, /name a bridge/],
  ['detectLocalMode: InterfaceNamePrefix\ndetectLocal: {}', 'detectLocal.interfaceNamePrefix', 4, /prefix/],
  ['logging:\n  format: xml', 'logging.format', 4, /text or json/],
  [
    'logging:\n  format: json\n  vmodule:\n  - {filePattern: proxier, verbosity: 4}',
    'logging.vmodule',
    5,
    /text/,
  ],
  [
    'logging:\n  vmodule:\n  - {filePattern: "", verbosity: 4}',
    'logging.vmodule[0].filePattern',
    5,
    /non-empty/,
  ],
  ['logging:\n  flushFrequency: -1s', 'logging.flushFrequency', 4, /not be negative/],
  ['portRange: 2000-300', 'portRange', 3, /port range/],
  ['portRange: abc', 'portRange', 3, /port range/],
  ['showHiddenMetricsForVersion: "latest"', 'showHiddenMetricsForVersion', 3, /minor version/],
];

const accepted: string[] = [
  'mode: userspace',
  'mode: ipvs\nipvs: {scheduler: lc}',
  'iptables: {masqueradeBit: 31, syncPeriod: 1h0m0s, minSyncPeriod: 0s}',
  'iptables: {syncPeriod: 2s, minSyncPeriod: 2s}',
  'mode: iptables\nipvs: {syncPeriod: 1s, minSyncPeriod: 1m}',
  'clusterCIDR: fd00::/64,10.0.0.0/8',
  'clusterCIDR: 10.0.0.1/16',
  'nodePortAddresses: [primary]',
  'nodePortAddresses: [127.0.0.0/8, "::1/128"]',
  'healthzBindAddress: "[::]:10256"',
  'detectLocalMode: BridgeInterface\ndetectLocal: {bridgeInterface: cbr0}',
  'portRange: 30000-32767',
  'portRange: 30000+2767',
  'showHiddenMetricsForVersion: "1.30"',
  'logging: {format: json, verbosity: 4, options: {json: {infoBufferSize: 64Ki, splitStream: true}}}',
  'winkernel: {networkName: l2bridge, enableDSR: true}',
];

describe("kube-proxy's validation rules", () => {
  for (const [body, path, line, message] of rejected) {
    it(`rejects ${JSON.stringify(body)} at line ${line}, ${path}`, () => {
      const problems = problemsOf(body);
      assert.deepEqual(
        problems.map((problem) => [problem.where, problem.path]),
        [[`FILE:${line}`, path]],
      );
      assert.match(problems[0]?.message ?? '', message);
    });
  }
  for (const body of accepted) {
    it(`accepts ${JSON.stringify(body)}`, () => assert.doesNotThrow(() => resolveText(body)));
  }

  it('reports every problem of a file at once, in one error', () => {
    const problems = problemsOf('mode: fast\niptables:\n  masqueradeBit: 40\noomScoreAdj: 5000\nbogus: 1\n');
    assert.deepEqual(problems.map((problem) => [problem.where, problem.path]).sort(), [
      ['FILE:3', 'mode'],
      ['FILE:5', 'iptables.masqueradeBit'],
      ['FILE:6', 'oomScoreAdj'],
      ['FILE:7', 'bogus'],
    ]);
  });
});

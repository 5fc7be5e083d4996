import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeProxyConfiguration } from '../../src/config/types.js';
import { resolveText } from './config-test-helpers.js';

type Read = (config: KubeProxyConfiguration) => unknown;

/** [what is written, the field read back, what kproxy must use]: kube-proxy's defaults, one by one. */
const cases: [string, Read, unknown][] = [
  ['', (c) => c.mode, 'iptables'],
  ['mode: ""', (c) => c.mode, 'iptables'],
  ['mode: null', (c) => c.mode, 'iptables'],
  ['mode: nftables', (c) => c.mode, 'nftables'],
  ['', (c) => c.bindAddress, '0.0.0.0'],
  ['', (c) => c.healthzBindAddress, '0.0.0.0:10256'],
  ['', (c) => c.metricsBindAddress, '127.0.0.1:10249'],
  ['bindAddress: "::"', (c) => c.healthzBindAddress, '[::]:10256'],
  ['bindAddress: "::"', (c) => c.metricsBindAddress, '[::1]:10249'],
  ['healthzBindAddress: 10.0.0.1', (c) => c.healthzBindAddress, '10.0.0.1:10256'],
  ['metricsBindAddress: "::1"', (c) => c.metricsBindAddress, '[::1]:10249'],
  ['metricsBindAddress: 0.0.0.0:9999', (c) => c.metricsBindAddress, '0.0.0.0:9999'],
  ['', (c) => c.oomScoreAdj, -999],
  ['oomScoreAdj: null', (c) => c.oomScoreAdj, -999],
  ['oomScoreAdj: 0', (c) => c.oomScoreAdj, 0],
  ['', (c) => c.iptables.syncPeriod, 30_000],
  ['iptables: {syncPeriod: 0s}', (c) => c.iptables.syncPeriod, 30_000],
  ['iptables: {syncPeriod: 1m}', (c) => c.iptables.syncPeriod, 60_000],
  ['iptables: {minSyncPeriod: 0s}', (c) => c.iptables.minSyncPeriod, 1000],
  ['iptables: {masqueradeBit: null}', (c) => c.iptables.masqueradeBit, 14],
  ['iptables: {masqueradeBit: 0}', (c) => c.iptables.masqueradeBit, 0],
  ['iptables: {localhostNodePorts: null}', (c) => c.iptables.localhostNodePorts, true],
  ['iptables: {localhostNodePorts: false}', (c) => c.iptables.localhostNodePorts, false],
  ['', (c) => c.iptables.masqueradeAll, false],
  ['', (c) => c.iptables.snatNodeInternalIP, false],
  ['ipvs: {syncPeriod: 0s}', (c) => c.ipvs.syncPeriod, 30_000],
  ['ipvs: {minSyncPeriod: 0s}', (c) => c.ipvs.minSyncPeriod, 0],
  ['ipvs: {scheduler: ""}', (c) => c.ipvs.scheduler, 'rr'],
  ['ipvs: {scheduler: sh}', (c) => c.ipvs.scheduler, 'sh'],
  ['ipvs: {excludeCIDRs: null}', (c) => c.ipvs.excludeCIDRs, []],
  ['ipvs: {tcpTimeout: 0s}', (c) => c.ipvs.tcpTimeout, 0],
  ['', (c) => c.nftables.syncPeriod, 30_000],
  ['', (c) => c.nftables.minSyncPeriod, 1000],
  ['', (c) => c.nftables.masqueradeBit, 14],
  ['conntrack: {maxPerCore: null}', (c) => c.conntrack.maxPerCore, 32768],
  ['conntrack: {maxPerCore: 0}', (c) => c.conntrack.maxPerCore, 0],
  ['conntrack: {min: null}', (c) => c.conntrack.min, 131072],
  ['conntrack: {tcpEstablishedTimeout: null}', (c) => c.conntrack.tcpEstablishedTimeout, 86_400_000],
  ['conntrack: {tcpEstablishedTimeout: 0s}', (c) => c.conntrack.tcpEstablishedTimeout, 0],
  ['conntrack: {tcpCloseWaitTimeout: null}', (c) => c.conntrack.tcpCloseWaitTimeout, 3_600_000],
  ['', (c) => c.conntrack.udpTimeout, 0],
  ['', (c) => c.conntrack.udpStreamTimeout, 0],
  ['', (c) => c.conntrack.tcpBeLiberal, false],
  ['configSyncPeriod: 0s', (c) => c.configSyncPeriod, 900_000],
  [
    'clientConnection: {contentType: ""}',
    (c) => c.clientConnection.contentType,
    'application/vnd.kubernetes.protobuf',
  ],
  ['clientConnection: {qps: 0}', (c) => c.clientConnection.qps, 5],
  ['clientConnection: {qps: 2.5}', (c) => c.clientConnection.qps, 2.5],
  ['clientConnection: {burst: 0}', (c) => c.clientConnection.burst, 10],
  ['', (c) => c.featureGates, {}],
  ['featureGates: {NFTablesProxyMode: true}', (c) => c.featureGates, { NFTablesProxyMode: true }],
  ['', (c) => c.logging.format, 'text'],
  ['', (c) => c.logging.flushFrequency, 5000],
  ['logging: {flushFrequency: 1000000000}', (c) => c.logging.flushFrequency, 1000],
  ['', (c) => c.logging.verbosity, 0],
  ['', (c) => c.logging.options.json.infoBufferSize, '0'],
  ['', (c) => c.detectLocalMode, 'ClusterCIDR'],
  ['detectLocalMode: NodeCIDR', (c) => c.detectLocalMode, 'NodeCIDR'],
  ['', (c) => c.nodePortAddresses, []],
  ['mode: ipvs', (c) => c.nodePortAddresses, []],
  ['mode: nftables', (c) => c.nodePortAddresses, ['primary']],
  ['mode: nftables\nnodePortAddresses: [10.0.0.0/8]', (c) => c.nodePortAddresses, ['10.0.0.0/8']],
  ['', (c) => c.portRange, ''],
  ['', (c) => c.winkernel.enableDSR, false],
  ['', (c) => c.windowsRunAsService, false],
  ['iptables: null\nipvs: null\nconntrack: null', (c) => c.iptables.syncPeriod, 30_000],
];

describe("kube-proxy's defaults", () => {
  for (const [body, read, expected] of cases) {
    it(`${body || '(nothing written)'} → ${JSON.stringify(expected)}`, () => {
      assert.deepEqual(read(resolveText(body).config), expected);
    });
  }
});

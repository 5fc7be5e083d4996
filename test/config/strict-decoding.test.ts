import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { header, problemsOf, resolveText } from './config-test-helpers.js';

/** [body, field path, line, what the message must say]: what kube-proxy's strict decoding refuses. */
const rejected: [string, string, number, RegExp][] = [
  ['bogus: 1', 'bogus', 3, /unknown field .*allowed: apiVersion, kind, featureGates/],
  [
    'iptables:\n  syncperiod: 30s',
    'iptables.syncperiod',
    4,
    /unknown field .*did you mean syncPeriod\? allowed: masqueradeBit, .*syncPeriod/,
  ],
  ['Mode: ipvs', 'Mode', 3, /unknown field .*did you mean mode\?/],
  ['bindAdress: 0.0.0.0', 'bindAdress', 3, /did you mean bindAddress\?/],
  ['udpIdleTimeout: 250ms', 'udpIdleTimeout', 3, /no longer part of .*userspace/],
  ['conntrack:\n  max: 0', 'conntrack.max', 4, /no longer part .*maxPerCore/],
  ['mode: 5', 'mode', 3, /must be a string, got 5 \(quote it: "5"\)/],
  ['hostnameOverride: [a, b]', 'hostnameOverride', 3, /must be a string, got a list/],
  ['enableProfiling: "yes"', 'enableProfiling', 3, /true or false/],
  ['iptables:\n  masqueradeBit: "14"', 'iptables.masqueradeBit', 4, /whole number/],
  ['iptables:\n  masqueradeBit: 1.5', 'iptables.masqueradeBit', 4, /whole number/],
  ['oomScoreAdj: 4294967296', 'oomScoreAdj', 3, /whole number \(32-bit\)/],
  ['iptables:\n  syncPeriod: 30', 'iptables.syncPeriod', 4, /Go duration .*write "30s"/],
  ['iptables:\n  syncPeriod: 30 seconds', 'iptables.syncPeriod', 4, /Go duration/],
  ['configSyncPeriod: 1d', 'configSyncPeriod', 3, /Go duration/],
  ['clientConnection:\n  qps: fast', 'clientConnection.qps', 4, /a number/],
  ['clientConnection:\n  qps: .inf', 'clientConnection.qps', 4, /a number/],
  ['logging:\n  verbosity: -1', 'logging.verbosity', 4, /≥ 0/],
  [
    'logging:\n  options:\n    json:\n      infoBufferSize: lots',
    'logging.options.json.infoBufferSize',
    6,
    /quantity/,
  ],
  ['nodePortAddresses: 10.0.0.0/8', 'nodePortAddresses', 3, /a list of strings/],
  ['nodePortAddresses:\n- 10.0.0.0/8\n- 8', 'nodePortAddresses[1]', 5, /must be a string/],
  ['ipvs: rr', 'ipvs', 3, /a mapping of fields \(allowed: syncPeriod/],
  ['featureGates:\n  Foo: maybe', 'featureGates.Foo', 4, /true or false/],
  ['featureGates: [Foo]', 'featureGates', 3, /mapping of feature names/],
  ['logging:\n  vmodule: {a: 1}', 'logging.vmodule', 4, /a list of mappings/],
  [
    'logging:\n  vmodule:\n  - {filePattern: x, level: 2}',
    'logging.vmodule[0].level',
    5,
    /unknown field .*filePattern, verbosity/,
  ],
  ['1: one', '(document)', 3, /field names must be strings/],
];

describe('strict decoding, as kube-proxy does it', () => {
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

  const documents: [string, string, number, RegExp][] = [
    ['', '(document)', 1, /empty/],
    ['# only a comment\n', '(document)', 1, /empty/],
    [`${header}mode: ipvs\nmode: iptables\n`, 'mode', 4, /YAML syntax: .*unique/],
    [`${header}iptables:\n  syncPeriod: [30s\n`, 'iptables.syncPeriod[0]', 5, /YAML syntax/],
    [`${header}---\n${header}`, '(document)', 3, /one YAML document, found 2/],
    ['- a\n- b\n', '(document)', 1, /mapping of fields/],
    [
      'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeletConfiguration\n',
      'kind',
      2,
      /KubeProxyConfiguration .*got "KubeletConfiguration"/,
    ],
    [
      'apiVersion: kubeproxy.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n',
      'apiVersion',
      1,
      /kubeproxy.config.k8s.io\/v1alpha1, got "kubeproxy.config.k8s.io\/v1beta1"/,
    ],
    ['kind: KubeProxyConfiguration\n', 'apiVersion', 1, /got missing/],
  ];
  for (const [text, path, line, message] of documents) {
    it(`rejects the document ${JSON.stringify(text)} at line ${line}`, () => {
      const problems = problemsOf(text, {}, true);
      assert.deepEqual([problems[0]?.where, problems[0]?.path], [`FILE:${line}`, path]);
      assert.match(problems[0]?.message ?? '', message);
    });
  }

  it('accepts YAML anchors and aliases, and flow style', () => {
    const config = resolveText(
      'iptables: &periods {syncPeriod: 1m, minSyncPeriod: 2s}\nnftables: *periods\n',
    ).config;
    assert.equal(config.nftables.syncPeriod, 60_000);
    assert.equal(config.nftables.minSyncPeriod, 2000);
  });

  it('the error text a user sees names file:line, the field and what is allowed', () => {
    assert.throws(
      () => resolveText('iptables:\n  masqueradeBit: 40\n'),
      (error: Error) =>
        /config-\d+\.yaml:4: iptables\.masqueradeBit: must be within \[0, 31\]/.test(error.message),
    );
  });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failingLine } from '../../../src/dataplanes/iptables/applier.js';
import { cleanupRestoreText } from '../../../src/dataplanes/iptables/cleanup.js';

test('the failing line is read from every iptables-restore error style', () => {
  assert.equal(
    failingLine(
      "iptables-restore v1.8.9 (nf_tables): Couldn't load match `bogus'\n\nError occurred at line: 4\n",
    ),
    4,
  );
  assert.equal(failingLine('iptables-restore: line 17 failed\n'), 17);
  assert.equal(
    failingLine(
      'iptables-restore v1.8.9 (nf_tables): \nline 9: CHAIN_DEL failed (Device or resource busy): chain KUBE-B\n',
    ),
    9,
  );
  assert.equal(failingLine('iptables-restore: permission denied\n'), undefined);
});

test('cleanup removes proxy chains and jumps into them, and leaves kubelet and user rules', () => {
  const saved = [
    '*filter',
    ':INPUT ACCEPT [0:0]',
    ':KUBE-SERVICES - [0:0]',
    ':KUBE-KUBELET-CANARY - [0:0]',
    ':KUBE-FIREWALL - [0:0]',
    '-A INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
    '-A INPUT -j KUBE-FIREWALL',
    'COMMIT',
    '*nat',
    ':POSTROUTING ACCEPT [0:0]',
    ':KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]',
    ':KUBE-XLB-ABC - [0:0]',
    '-A POSTROUTING -s 10.99.0.0/16 -j MASQUERADE',
    'COMMIT',
    '',
  ].join('\n');
  assert.equal(
    cleanupRestoreText(saved),
    [
      '*filter',
      '-D INPUT -m conntrack --ctstate NEW -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
      ':KUBE-SERVICES - [0:0]',
      '-X KUBE-SERVICES',
      'COMMIT',
      '*nat',
      ':KUBE-SVC-XPGD46QRK7WJZT7O - [0:0]',
      ':KUBE-XLB-ABC - [0:0]',
      '-X KUBE-SVC-XPGD46QRK7WJZT7O',
      '-X KUBE-XLB-ABC',
      'COMMIT',
      '',
    ].join('\n'),
  );
});

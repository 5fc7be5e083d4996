import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isCIDR,
  isDns1035Label,
  isDns1123Label,
  isDns1123Subdomain,
  isIanaServiceName,
  isIPAddress,
  isLabelValue,
  isPortNumber,
  isSchedulerName,
} from '../../src/model/validation.js';

/** Strings that would break out of a rule, a rule comment or a shell command if they got through. */
const INJECTIONS = [
  'web"; iptables -F; echo "',
  "web' || true",
  'web\nCOMMIT',
  'web\r\n-A KUBE-SERVICES -j ACCEPT',
  'web$(reboot)',
  'web`id`',
  'web;rm',
  'web /* comment */',
  'we b',
  '../etc',
  'web\u0000',
  'wéb',
  'a'.repeat(64),
];

const table = [
  {
    check: isDns1123Label,
    good: ['web', 'a', '0web', 'my-app-1', 'a'.repeat(63)],
    bad: ['', 'Web', '-web', 'web-', 'web.app', ...INJECTIONS],
  },
  { check: isDns1035Label, good: ['web', 'a', 'my-app-1'], bad: ['', '0web', 'Web', 'web-', ...INJECTIONS] },
  {
    check: isDns1123Subdomain,
    good: ['web', 'node-1.example.com', 'a'.repeat(63)],
    bad: ['', '.web', 'web.', 'web..app', 'Node1', 'a'.repeat(254), ...INJECTIONS.slice(0, -1)],
  },
  {
    check: isIanaServiceName,
    good: ['http', 'dns-tcp', 'h2c', 'a1'],
    bad: ['', '123', 'http--alt', '-http', 'http-', 'Http', 'a-very-long-port-name', ...INJECTIONS],
  },
  {
    check: isLabelValue,
    good: ['', 'zone-a', 'us-east-1a', 'A_b.c'],
    bad: ['-zone', 'zone-', 'zone a', ...INJECTIONS.slice(0, -1)],
  },
  {
    check: isIPAddress,
    good: ['10.0.0.1', '::1', 'fd00::5', '2001:db8::ffff'],
    bad: ['', '10.0.0', '10.0.0.256', '10.0.0.1/32', 'fe80::1%eth0', 'localhost', ...INJECTIONS],
  },
  {
    check: isCIDR,
    good: ['10.0.0.0/8', '0.0.0.0/0', '2001:db8::/64', '10.0.0.1/32'],
    bad: [
      '',
      '10.0.0.0',
      '10.0.0.0/33',
      '::/129',
      '10.0.0.0/8/8',
      '10.0.0.0/-1',
      '10.0.0.0/ 8',
      ...INJECTIONS,
    ],
  },
  {
    check: isSchedulerName,
    good: ['rr', 'lc', 'sh', 'mh', 'twos'],
    bad: ['', 'RR', 'rr lc', 'rr;', ...INJECTIONS],
  },
];

describe('Kubernetes validation rules', () => {
  for (const { check, good, bad } of table) {
    it(`${check.name}: accepts ${good.length} good values, rejects ${bad.length} bad ones with a reason`, () => {
      for (const value of good)
        assert.equal(check(value), undefined, `should accept ${JSON.stringify(value)}`);
      for (const value of bad)
        assert.match(check(value) ?? '', /\w/, `should reject ${JSON.stringify(value)}`);
    });
  }

  it('port numbers are 1 to 65535', () => {
    for (const good of [1, 80, 65535]) assert.equal(isPortNumber(good), undefined);
    for (const bad of [0, -1, 65536, 1.5, Number.NaN]) assert.ok(isPortNumber(bad));
  });
});

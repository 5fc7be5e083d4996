import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderIptablesRestore } from '../../../src/dataplanes/iptables/render.js';
import { parseIptablesRules } from '../../fakes/iptables-restore.js';
import { endpoint, renderOptions, stateOf } from './fixtures.js';

const overall = stateOf(
  {
    namespace: 'ns1',
    name: 'svc1',
    port: 80,
    clusterIP: '172.30.0.41',
    endpoints: [endpoint('10.180.0.1', 80)],
  },
  {
    namespace: 'ns5',
    name: 'svc5',
    port: 80,
    clusterIP: '172.30.0.45',
    nodePort: 3002,
    loadBalancerIPs: ['5.6.7.8'],
    loadBalancerSourceRanges: ['203.0.113.0/25'],
    endpoints: [endpoint('10.180.0.3', 80)],
  },
  { namespace: 'ns6', name: 'svc6', port: 80, clusterIP: '172.30.0.46' },
);

function rulesOf(text: string, table: string, chain: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith(`-A ${chain} `))
    .filter(() => parseIptablesRules(text).get(table)?.chains.has(chain));
}

test('a ClusterIP Service is written in kube-proxy layout, names and comments', () => {
  const text = renderIptablesRestore(overall, renderOptions());
  assert.deepEqual(rulesOf(text, 'nat', 'KUBE-SVC-XPGD46QRK7WJZT7O'), [
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 cluster IP" -m tcp -p tcp -d 172.30.0.41 --dport 80 ! -s 10.0.0.0/8 -j KUBE-MARK-MASQ',
    '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -j KUBE-SEP-SXIVWICOYRO3J4NJ',
  ]);
  assert.deepEqual(rulesOf(text, 'nat', 'KUBE-SEP-SXIVWICOYRO3J4NJ'), [
    '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -s 10.180.0.1 -j KUBE-MARK-MASQ',
    '-A KUBE-SEP-SXIVWICOYRO3J4NJ -m comment --comment ns1/svc1:p80 -m tcp -p tcp -j DNAT --to-destination 10.180.0.1:80',
  ]);
  assert.ok(text.includes('-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000\n'));
  assert.ok(text.includes('-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN\n'));
});

test('source ranges go through KUBE-FW and KUBE-PROXY-FIREWALL; no endpoints is a REJECT', () => {
  const text = renderIptablesRestore(overall, renderOptions());
  assert.deepEqual(rulesOf(text, 'nat', 'KUBE-FW-NUKIZ6OKUXPJNT4C'), [
    '-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "ns5/svc5:p80 loadbalancer IP" -s 203.0.113.0/25 -j KUBE-EXT-NUKIZ6OKUXPJNT4C',
    '-A KUBE-FW-NUKIZ6OKUXPJNT4C -m comment --comment "other traffic to ns5/svc5:p80 will be dropped by KUBE-PROXY-FIREWALL"',
  ]);
  assert.ok(
    text.includes(
      '-A KUBE-PROXY-FIREWALL -m comment --comment "ns5/svc5:p80 traffic not accepted by KUBE-FW-NUKIZ6OKUXPJNT4C" -m tcp -p tcp -d 5.6.7.8 --dport 80 -j DROP\n',
    ),
  );
  assert.ok(
    text.includes(
      '-A KUBE-SERVICES -m comment --comment "ns6/svc6:p80 has no endpoints" -m tcp -p tcp -d 172.30.0.46 --dport 80 -j REJECT\n',
    ),
  );
});

test('probabilities are written as %0.10f, 1/n for each remaining endpoint', () => {
  const endpoints = [1, 2, 3].map((i) => endpoint(`10.180.0.${i}`, 80));
  const text = renderIptablesRestore(
    stateOf({ namespace: 'ns', name: 's', port: 80, clusterIP: '172.30.0.9', endpoints }),
    renderOptions(),
  );
  const probabilities = [...text.matchAll(/--probability (\S+)/g)].map((m) => m[1]);
  assert.deepEqual(probabilities, ['0.3333333333', '0.5000000000']);
});

test('session affinity checks and sets a recent list named after the endpoint chain', () => {
  const text = renderIptablesRestore(
    stateOf({
      namespace: 'ns1',
      name: 'svc1',
      port: 80,
      clusterIP: '172.30.0.41',
      sessionAffinity: { type: 'ClientIP', timeoutSeconds: 300 },
      endpoints: [endpoint('10.180.0.1', 80)],
    }),
    renderOptions(),
  );
  assert.ok(
    text.includes(
      '-A KUBE-SVC-XPGD46QRK7WJZT7O -m comment --comment "ns1/svc1:p80 -> 10.180.0.1:80" -m recent --name KUBE-SEP-SXIVWICOYRO3J4NJ --rcheck --seconds 300 --reap -j KUBE-SEP-SXIVWICOYRO3J4NJ\n',
    ),
  );
  assert.ok(text.includes('-m recent --name KUBE-SEP-SXIVWICOYRO3J4NJ --set -m tcp -p tcp -j DNAT'));
});

test('IPv6 renders only IPv6 addresses, bracketed in DNAT', () => {
  const state = stateOf({
    namespace: 'ns1',
    name: 'svc1',
    port: 80,
    clusterIP: 'fd00:30::41',
    endpoints: [endpoint('fd00:180::1', 80), endpoint('10.180.0.1', 80)],
  });
  const text = renderIptablesRestore(
    state,
    renderOptions({ ipFamily: 'IPv6', clusterCIDRs: ['fd00::/48'], nodeIPs: ['fd00::2'] }),
  );
  assert.ok(text.includes('--to-destination [fd00:180::1]:80'));
  assert.ok(!text.includes('10.180.0.1'));
  assert.ok(text.includes('! -s fd00::/48 -j KUBE-MARK-MASQ'));
  assert.ok(text.includes('-m addrtype --dst-type LOCAL ! -d ::1/128 -j KUBE-NODEPORTS'));
});

test('masqueradeAll marks all cluster IP traffic; no clusterCIDR and no masqueradeAll marks none', () => {
  const state = stateOf({
    namespace: 'ns1',
    name: 'svc1',
    port: 80,
    clusterIP: '172.30.0.41',
    endpoints: [endpoint('10.180.0.1', 80)],
  });
  const all = renderIptablesRestore(state, renderOptions({ masqueradeAll: true }));
  assert.ok(all.includes('-m tcp -p tcp -d 172.30.0.41 --dport 80 -j KUBE-MARK-MASQ\n'));
  const none = renderIptablesRestore(state, renderOptions({ clusterCIDRs: [] }));
  assert.ok(!none.includes('--dport 80 ! -s'));
  assert.ok(!/-d 172\.30\.0\.41 --dport 80 -j KUBE-MARK-MASQ/.test(none));
});

const hostile = ['a"b', 'quote" -j ACCEPT "x', 'new\nline', 'back\\slash', `${'long'.repeat(100)}`, 'üñí'];

for (const name of hostile) {
  test(`a name like ${JSON.stringify(name.slice(0, 24))} neither breaks nor injects a rule`, () => {
    const state = stateOf({
      namespace: 'ns',
      name,
      port: 80,
      clusterIP: '172.30.0.41',
      endpoints: [endpoint('10.180.0.1', 80)],
    });
    const text = renderIptablesRestore(state, renderOptions());
    const plain = renderIptablesRestore(
      stateOf({
        namespace: 'ns',
        name: 'plain',
        port: 80,
        clusterIP: '172.30.0.41',
        endpoints: [endpoint('10.180.0.1', 80)],
      }),
      renderOptions(),
    );
    assert.equal(text.split('\n').length, plain.split('\n').length);
    const parsed = parseIptablesRules(text);
    for (const table of parsed.values()) {
      for (const rules of table.chains.values()) {
        for (const rule of rules) {
          assert.equal(rule.args.filter((word) => word === '-j').length <= 1, true, rule.args.join(' '));
          const comment = rule.args[rule.args.indexOf('--comment') + 1] ?? '';
          assert.ok(comment.length <= 255);
          assert.doesNotMatch(comment, /["\\\n]/);
        }
      }
    }
  });
}

test('malformed addresses and ports from a manifest are left out, never written', () => {
  const text = renderIptablesRestore(
    stateOf({
      namespace: 'ns',
      name: 's',
      port: 80,
      clusterIP: '172.30.0.41',
      externalIPs: ['1.2.3.4 -j ACCEPT'],
      loadBalancerSourceRanges: ['0.0.0.0/0 -j ACCEPT', '10.0.0.0/99'],
      endpoints: [
        endpoint('10.180.0.1 -j ACCEPT', 80),
        endpoint('10.180.0.2', 70000),
        endpoint('10.180.0.3', 80),
      ],
    }),
    renderOptions(),
  );
  assert.doesNotMatch(text, /-j ACCEPT -j|1\.2\.3\.4|70000|10\.180\.0\.1|\/99/);
  assert.match(text, /--to-destination 10\.180\.0\.3:80/);
});

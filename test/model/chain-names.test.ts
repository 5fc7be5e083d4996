import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  isServiceChainName,
  servicePortChainNames,
  servicePortEndpointChainName,
} from '../../src/model/chain-names.js';

// Expected names come from kube-proxy's own iptables proxier test expectations.
const serviceCases = [
  { id: 'ns1/svc1:p80', hash: 'XPGD46QRK7WJZT7O' },
  { id: 'ns2/svc2:p80', hash: 'GNZBNJ2PO5MGZ6GT' },
  { id: 'ns2/svc2:p8080', hash: '2VJB64SDSIJUP5T6' },
  { id: 'ns3/svc3:p80', hash: 'X27LE4BHSL4DOUIK' },
  { id: 'ns4/svc4:p80', hash: '4SW47YFZTEDKD3PK' },
  { id: 'ns5/svc5:p80', hash: 'NUKIZ6OKUXPJNT4C' },
];

for (const { id, hash } of serviceCases) {
  test(`${id} tcp hashes to kube-proxy's ${hash}`, () => {
    const names = servicePortChainNames(id, 'TCP');
    assert.deepEqual(names, {
      cluster: `KUBE-SVC-${hash}`,
      local: `KUBE-SVL-${hash}`,
      external: `KUBE-EXT-${hash}`,
      firewall: `KUBE-FW-${hash}`,
    });
  });
}

const endpointCases = [
  { id: 'ns1/svc1:p80', endpoint: '10.180.0.1:80', chain: 'KUBE-SEP-SXIVWICOYRO3J4NJ' },
  { id: 'ns1/svc1:p80', endpoint: '10.180.2.1:80', chain: 'KUBE-SEP-ZX7GRIZKSNUQ3LAJ' },
  { id: 'ns1/svc1:p80', endpoint: '10.0.1.1:80', chain: 'KUBE-SEP-SNQ3ZNILQDEJNDQO' },
  { id: 'ns2/svc2:p8080', endpoint: '10.0.2.1:8080', chain: 'KUBE-SEP-UHEGFW77JX3KXTOV' },
  { id: 'ns4/svc4:p80', endpoint: '10.180.0.4:80', chain: 'KUBE-SEP-UKSFD7AGPMPPLUHC' },
  { id: 'ns4/svc4:p80', endpoint: '10.180.0.5:80', chain: 'KUBE-SEP-C6EBXVWJJZMIWKLZ' },
];

for (const { id, endpoint, chain } of endpointCases) {
  test(`${id} tcp endpoint ${endpoint} is kube-proxy's ${chain}`, () => {
    assert.equal(servicePortEndpointChainName(id, 'TCP', endpoint), chain);
  });
}

test('the protocol is part of the hash, and every name fits in 28 characters', () => {
  const tcp = servicePortChainNames('ns1/svc1:p80', 'TCP').cluster;
  const udp = servicePortChainNames('ns1/svc1:p80', 'UDP').cluster;
  assert.notEqual(tcp, udp);
  const long = servicePortChainNames(`${'n'.repeat(63)}/${'s'.repeat(63)}:${'p'.repeat(15)}`, 'SCTP');
  for (const name of Object.values(long)) assert.ok(name.length <= 28, name);
});

test('service chains are told apart from the shared chains', () => {
  assert.equal(isServiceChainName('KUBE-SEP-SXIVWICOYRO3J4NJ'), true);
  assert.equal(isServiceChainName('KUBE-SERVICES'), false);
  assert.equal(isServiceChainName('KUBE-MARK-MASQ'), false);
});

import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { it } from 'node:test';
import { hostAddresses } from '../../src/dataplanes/render-options.js';

function address(ip: string, internal = false): NetworkInterfaceInfo {
  const v6 = ip.includes(':');
  return {
    address: ip,
    netmask: v6 ? 'ffff:ffff:ffff:ffff::' : '255.255.255.0',
    family: v6 ? 'IPv6' : 'IPv4',
    mac: '00:00:00:00:00:00',
    internal,
    cidr: null,
    ...(v6 ? { scopeid: 0 } : {}),
  } as NetworkInterfaceInfo;
}

it('takes the node addresses of one family, without loopback, link-local or kube-ipvs0 Service addresses', () => {
  const interfaces = {
    lo: [address('127.0.0.1', true), address('::1', true)],
    eth0: [address('192.168.1.10'), address('fe80::1'), address('2001:db8::10')],
    'kube-ipvs0': [address('10.96.0.10'), address('fd00::a')],
  };
  assert.deepEqual(hostAddresses('IPv4', interfaces), ['192.168.1.10']);
  assert.deepEqual(hostAddresses('IPv6', interfaces), ['2001:db8::10']);
});

import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { describe, it } from 'node:test';
import { healthCheckHosts } from '../../src/servers/health-check-hosts.js';

function iface(address: string): NetworkInterfaceInfo {
  const v6 = address.includes(':');
  return {
    address,
    netmask: v6 ? 'ffff:ffff:ffff:ffff::' : '255.255.255.0',
    family: v6 ? 'IPv6' : 'IPv4',
    mac: '00:00:00:00:00:00',
    internal: address === '127.0.0.1' || address === '::1',
    cidr: null,
  } as NetworkInterfaceInfo;
}

const interfaces = {
  lo: [iface('127.0.0.1'), iface('::1')],
  eth0: [iface('192.168.1.45'), iface('fd12:b5e0:383e::45')],
  eth1: [iface('10.20.0.7')],
};

describe('where health-check node ports listen', () => {
  const table = [
    { what: 'every address when nodePortAddresses is empty', nodePortAddresses: [], hosts: [''] },
    { what: 'the addresses inside a CIDR', nodePortAddresses: ['192.168.1.0/24'], hosts: ['192.168.1.45'] },
    {
      what: 'both families',
      nodePortAddresses: ['192.168.0.0/16', 'fd12:b5e0:383e::/64'],
      hosts: ['192.168.1.45', 'fd12:b5e0:383e::45'],
    },
    { what: 'primary: the Node object primary IPs', nodePortAddresses: ['primary'], hosts: ['192.168.1.45'] },
    {
      what: 'every address when no local address matches',
      nodePortAddresses: ['172.16.0.0/12'],
      hosts: [''],
    },
  ];
  for (const row of table) {
    it(row.what, () =>
      assert.deepEqual(
        healthCheckHosts({
          nodePortAddresses: row.nodePortAddresses,
          primaryIPs: ['192.168.1.45'],
          interfaces,
        }),
        row.hosts,
      ),
    );
  }
});

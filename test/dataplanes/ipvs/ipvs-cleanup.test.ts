import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  nodePortVirtualServerKeys,
  proxyVirtualServerKeys,
} from '../../../src/dataplanes/ipvs/ipvs-cleanup.js';
import { parseIpvsadmSave } from '../../../src/dataplanes/ipvs/ipvs-table.js';

/** `ipset list` members by the set names the kernel holds (ipset keeps 31 characters of a name). */
const members = new Map([
  ['KUBE-NODE-PORT-TCP', ['30080']],
  ['KUBE-6-NODE-PORT-UDP', ['30053']],
  ['KUBE-6-NODE-PORT-LOCAL-SCTP-HAS', ['fd00:50::1,sctp:30300']],
]);
const nodeAddresses = { IPv4: ['192.168.50.1', '10.0.2.15'], IPv6: ['fd00:50::1'] };

describe('which virtual servers kproxy cleanup removes', () => {
  it('node ports on each node address of the set family; SCTP ones on the address their entry names', () => {
    assert.deepEqual([...nodePortVirtualServerKeys(members, nodeAddresses)].sort(), [
      '--sctp-service [fd00:50::1]:30300',
      '-t 10.0.2.15:30080',
      '-t 192.168.50.1:30080',
      '-u [fd00:50::1]:30053',
    ]);
  });

  it('ours on kube-ipvs0 addresses and node ports; not another program’s on the same port elsewhere', () => {
    const table = parseIpvsadmSave(
      [
        '-A -t 172.30.0.1:80 -s rr',
        '-A -t 192.168.50.1:30080 -s rr',
        '-A -t 10.99.0.1:30080 -s rr',
        '-A -u 192.168.50.1:30080 -s rr',
        '-A --sctp-service [fd00:50::1]:30300 -s rr',
      ].join('\n'),
    );
    const keys = proxyVirtualServerKeys(
      table,
      new Set(['172.30.0.1']),
      nodePortVirtualServerKeys(members, nodeAddresses),
    );
    assert.deepEqual(keys, [
      '-t 172.30.0.1:80',
      '-t 192.168.50.1:30080',
      '--sctp-service [fd00:50::1]:30300',
    ]);
  });
});

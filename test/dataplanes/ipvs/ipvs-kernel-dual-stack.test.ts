import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanupProxyState } from '../../../src/dataplanes/cleanup-everything.js';
import { DualStackDataplane } from '../../../src/dataplanes/dual-stack.js';
import { IpvsKernelDataplane } from '../../../src/dataplanes/ipvs/ipvs-kernel-dataplane.js';
import { createNetns, deleteNetns, runChecked } from '../../../src/dataplanes/netns.js';
import { freezeProxyState } from '../../../src/model/proxy-state.js';
import { endpoint, NODE, renderOptions, servicePort } from '../nftables/fixtures.js';
import { FakeIpvsadm } from './fake-ipvsadm.js';
import { ipsetMembers, ipvsKernelTestOptions, netnsSnapshot, serviceAddresses } from './netns-probe.js';

const dualStack = {
  ...servicePort({
    id: 'ns/web',
    clusterIP: '172.30.0.1',
    endpoints: [endpoint('10.1.0.1'), endpoint('fd00:1::1')],
    nodePort: 30080,
  }),
  clusterIPs: ['172.30.0.1', 'fd00:30::1'],
};
const state = freezeProxyState(NODE, [dualStack]);
/** Its IPv6 node-port set is KUBE-6-NODE-PORT-LOCAL-SCTP-HAS: ipset keeps 31 characters. */
const sctpLocal = servicePort({
  id: 'ns/diameter',
  clusterIP: 'fd00:30::2',
  protocol: 'SCTP',
  port: 3868,
  endpoints: [endpoint('fd00:1::2', 3868)],
  nodePort: 30300,
  local: true,
});

describe('ipvs mode with IPVS, both families, in a namespace', ipvsKernelTestOptions(), () => {
  const netns = `kp-ipvs6-${process.pid}`;
  const ipvsadm = new FakeIpvsadm();
  let pristine: string;
  const dataplane = new DualStackDataplane([
    new IpvsKernelDataplane({
      render: renderOptions(),
      netns,
      ipvsadm,
      settings: { strictARP: true, tcpTimeout: 900_000, tcpFinTimeout: 0, udpTimeout: 300_000 },
    }),
    new IpvsKernelDataplane({
      render: renderOptions({ ipFamily: 'IPv6', nodeIPs: ['fd00:50::1'], clusterCIDRs: ['fd00:1::/64'] }),
      netns,
      ipvsadm,
    }),
  ]);

  before(async () => {
    await createNetns(netns);
    // The node's addresses, which node-port virtual servers are on.
    await runChecked(['ip', 'link', 'add', 'kp-node', 'type', 'bridge'], { netns });
    await runChecked(['ip', 'addr', 'add', '192.168.50.1/24', 'dev', 'kp-node'], { netns });
    await runChecked(['ip', 'addr', 'add', 'fd00:50::1/64', 'dev', 'kp-node', 'nodad'], { netns });
    pristine = await netnsSnapshot(netns);
  });
  after(() => deleteNetns(netns));

  it('IPv6 gets KUBE-6- sets, ip6tables rules and a /128 on kube-ipvs0 beside the IPv4 ones', async () => {
    const result = await dataplane.sync(state, new Set());
    assert.deepEqual([...result.failed.values()], []);
    assert.deepEqual(await serviceAddresses(netns), ['172.30.0.1', 'fd00:30::1']);
    const shown = await runChecked(['ip', '-o', '-6', 'address', 'show', 'dev', 'kube-ipvs0'], { netns });
    assert.match(shown, /inet6 fd00:30::1\/128/);
    assert.deepEqual(await ipsetMembers(netns, 'KUBE-6-CLUSTER-IP'), ['fd00:30::1,tcp:80']);
    assert.deepEqual(await ipsetMembers(netns, 'KUBE-CLUSTER-IP'), ['172.30.0.1,tcp:80']);
    assert.deepEqual(await ipsetMembers(netns, 'KUBE-6-LOOP-BACK'), ['fd00:1::1,tcp:8080,fd00:1::1']);
    const nat6 = await runChecked(['ip6tables-save', '-t', 'nat'], { netns });
    assert.match(nat6, /--match-set KUBE-6-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ/);
    assert.match(nat6, /-A KUBE-SERVICES -s ::1\/128 -j RETURN/);
    assert.deepEqual([...ipvsadm.table.keys()].sort(), [
      '-t 172.30.0.1:80',
      '-t 192.168.50.1:30080',
      '-t [fd00:30::1]:80',
      '-t [fd00:50::1]:30080',
    ]);
    assert.deepEqual(
      [...(ipvsadm.table.get('-t [fd00:30::1]:80')?.realServers.keys() ?? [])],
      ['[fd00:1::1]:8080'],
    );
  });

  it('sets the sysctls and IPVS timeouts kube-proxy sets, once', async () => {
    const sysctl = (key: string) => runChecked(['sysctl', '-n', key], { netns }).then((v) => v.trim());
    assert.equal(await sysctl('net.ipv4.ip_forward'), '1');
    assert.equal(await sysctl('net.ipv4.conf.all.arp_ignore'), '1');
    assert.equal(await sysctl('net.ipv4.conf.all.arp_announce'), '2');
    assert.equal(ipvsadm.timeouts, '--set 900 0 300');
    const restores = ipvsadm.restores.length;
    await dataplane.sync(state, new Set());
    assert.equal(ipvsadm.restores.length, restores);
  });

  it('kproxy cleanup removes ipvs mode of both families: its virtual servers, chains, sets, kube-ipvs0', async () => {
    const synced = await dataplane.sync(freezeProxyState(NODE, [dualStack, sctpLocal]), new Set());
    assert.deepEqual([...synced.failed.values()], []);
    assert.deepEqual(await ipsetMembers(netns, 'KUBE-6-NODE-PORT-LOCAL-SCTP-HAS'), ['fd00:50::1,sctp:30300']);
    // Another program's virtual servers, one of them on a port that is a node port of ours.
    const others = ['-t 10.99.0.1:80', '-t 10.99.0.1:30080', '-u 192.168.50.1:30080'];
    for (const key of others)
      ipvsadm.table.set(key, { key, scheduler: 'rr', flags: [], realServers: new Map() });
    const report = await cleanupProxyState(netns, { ipvsadm });
    assert.deepEqual(report.virtualServers.sort(), [
      '--sctp-service 192.168.50.1:30300',
      '--sctp-service [fd00:30::2]:3868',
      '--sctp-service [fd00:50::1]:30300',
      '-t 172.30.0.1:80',
      '-t 192.168.50.1:30080',
      '-t [fd00:30::1]:80',
      '-t [fd00:50::1]:30080',
    ]);
    assert.deepEqual([...ipvsadm.table.keys()], others, "another program's virtual servers stay");
    assert.ok(report.links.includes('kube-ipvs0'));
    assert.ok(report.ipsets.includes('KUBE-6-CLUSTER-IP'));
    assert.equal(await netnsSnapshot(netns), pristine);
  });
});

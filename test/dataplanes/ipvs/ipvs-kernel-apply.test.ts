import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { desiredIpvs } from '../../../src/dataplanes/ipvs/ipvs-desired.js';
import { IpvsKernelDataplane } from '../../../src/dataplanes/ipvs/ipvs-kernel-dataplane.js';
import { ipvsadmRestoreText } from '../../../src/dataplanes/ipvs/ipvsadm-diff.js';
import { kernelHasIpvs } from '../../../src/dataplanes/ipvs-placement.js';
import { createNetns, deleteNetns, runChecked } from '../../../src/dataplanes/netns.js';
import { KproxyError } from '../../../src/errors.js';
import { freezeProxyState, type ProxyState } from '../../../src/model/proxy-state.js';
import { endpoint, NODE, renderOptions, type ServiceSpec, servicePort } from '../nftables/fixtures.js';
import { FakeIpvsadm } from './fake-ipvsadm.js';
import { ipsetMembers, ipvsKernelTestOptions, netnsSnapshot, serviceAddresses } from './netns-probe.js';

const nodeIP = '192.168.50.1';
const web: ServiceSpec = {
  id: 'ns/web:http',
  clusterIP: '172.30.0.1',
  endpoints: [endpoint('10.1.0.1'), endpoint('10.1.0.2')],
  nodePort: 30080,
  affinitySeconds: 600,
};
const lb: ServiceSpec = {
  id: 'ns/lb',
  clusterIP: '172.30.0.2',
  endpoints: [endpoint('10.1.0.3')],
  loadBalancerIPs: ['192.168.70.10'],
  sourceRanges: ['192.168.50.0/24'],
  local: true,
  scheduler: 'sh',
};
const dns: ServiceSpec = {
  id: 'kube-system/dns:dns',
  clusterIP: '172.30.0.10',
  port: 53,
  protocol: 'UDP',
  endpoints: [endpoint('10.1.0.5', 53)],
};
const stateOf = (...specs: ServiceSpec[]): ProxyState => freezeProxyState(NODE, specs.map(servicePort));
const render = renderOptions({ nodeIPs: [nodeIP] });

describe(
  'ipvs mode with IPVS: ipsets, iptables and kube-ipvs0 in a namespace',
  ipvsKernelTestOptions(),
  () => {
    const netns = `kp-ipvsk-${process.pid}`;
    const ipvsadm = new FakeIpvsadm();
    let dataplane: IpvsKernelDataplane;
    let pristine: string;

    before(async () => {
      await createNetns(netns);
      await runChecked(['ip', 'link', 'add', 'kp-node', 'type', 'bridge'], { netns });
      await runChecked(['ip', 'addr', 'add', `${nodeIP}/24`, 'dev', 'kp-node'], { netns });
      pristine = await netnsSnapshot(netns);
      dataplane = new IpvsKernelDataplane({ render, netns, ipvsadm });
    });
    after(() => deleteNetns(netns));

    it('a first sync binds every Service address, fills the sets and loads the rules', async () => {
      const result = await dataplane.sync(stateOf(web, lb, dns), new Set());
      assert.deepEqual([...result.failed.values()], []);
      assert.deepEqual(await serviceAddresses(netns), [
        '172.30.0.1',
        '172.30.0.10',
        '172.30.0.2',
        '192.168.70.10',
      ]);
      assert.deepEqual(await ipsetMembers(netns, 'KUBE-CLUSTER-IP'), [
        '172.30.0.1,tcp:80',
        '172.30.0.10,udp:53',
        '172.30.0.2,tcp:80',
      ]);
      assert.deepEqual(await ipsetMembers(netns, 'KUBE-NODE-PORT-TCP'), ['30080']);
      assert.deepEqual(await ipsetMembers(netns, 'KUBE-LOAD-BALANCER-SOURCE-CIDR'), [
        '192.168.70.10,tcp:80,192.168.50.0/24',
      ]);
      assert.deepEqual(await ipsetMembers(netns, 'KUBE-LOOP-BACK'), [
        '10.1.0.1,tcp:8080,10.1.0.1',
        '10.1.0.2,tcp:8080,10.1.0.2',
        '10.1.0.3,tcp:8080,10.1.0.3',
        '10.1.0.5,udp:53,10.1.0.5',
      ]);
      const sets = await runChecked(['ipset', 'list', '-n'], { netns });
      assert.equal(sets.split('\n').filter((name) => name.startsWith('KUBE-KP-TMP')).length, 0);
      const nat = await runChecked(['iptables-save', '-t', 'nat'], { netns });
      for (const rule of [
        '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES',
        '-A KUBE-SERVICES ! -s 10.1.0.0/16 -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ',
        '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
        '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ',
        '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000',
      ]) {
        assert.ok(nat.split('\n').includes(rule), `missing: ${rule}\n${nat}`);
      }
      const filter = await runChecked(['iptables-save', '-t', 'filter'], { netns });
      assert.match(
        filter,
        /-A KUBE-SOURCE-RANGES-FIREWALL .*--match-set KUBE-LOAD-BALANCER-SOURCE-CIDR dst,dst,src -j RETURN/,
      );
      assert.match(
        filter,
        /-A INPUT -m comment --comment "kubernetes ipvs access filter" -j KUBE-IPVS-FILTER/,
      );
      assert.equal(
        await ipvsadm.save(),
        `${ipvsadmRestoreText(desiredIpvs(stateOf(web, lb, dns), render).table, false)}\n`,
      );
    });

    it('a second sync after an endpoint and a Service went away updates all of it, nothing else', async () => {
      const fewer: ServiceSpec = { ...web, endpoints: [endpoint('10.1.0.1')] };
      const result = await dataplane.sync(
        stateOf(fewer, lb),
        new Set(['ns/web:http', 'kube-system/dns:dns']),
      );
      assert.deepEqual([...result.failed.values()], []);
      assert.deepEqual(await serviceAddresses(netns), ['172.30.0.1', '172.30.0.2', '192.168.70.10']);
      assert.deepEqual(await ipsetMembers(netns, 'KUBE-CLUSTER-IP'), [
        '172.30.0.1,tcp:80',
        '172.30.0.2,tcp:80',
      ]);
      assert.deepEqual(await ipsetMembers(netns, 'KUBE-LOOP-BACK'), [
        '10.1.0.1,tcp:8080,10.1.0.1',
        '10.1.0.3,tcp:8080,10.1.0.3',
      ]);
      assert.deepEqual(ipvsadm.restores.at(-1)?.split('\n').filter(Boolean), [
        '-d -t 172.30.0.1:80 -r 10.1.0.2:8080',
        '-d -t 192.168.50.1:30080 -r 10.1.0.2:8080',
        '-D -u 172.30.0.10:53',
      ]);
      const restores = ipvsadm.restores.length;
      assert.deepEqual([...(await dataplane.sync(stateOf(fewer, lb), new Set())).failed], []);
      assert.equal(ipvsadm.restores.length, restores, 'an unchanged state feeds ipvsadm nothing');
    });

    it('a failing ipset restore keeps every set as it was, and the next sync retries in full', async () => {
      // A leftover temporary set of another type makes the restore fail before any swap.
      await runChecked(['ipset', 'create', 'KUBE-KP-TMP-4-1', 'hash:ip'], { netns });
      const restores = ipvsadm.restores.length;
      const result = await dataplane.sync(stateOf(web, lb, dns), new Set());
      assert.equal(ipvsadm.restores.length, restores, 'nothing is programmed ahead of its sets');
      assert.ok(!ipvsadm.table.has('-u 172.30.0.10:53'));
      assert.equal(result.failed.size, 1);
      assert.match(
        String(result.failed.get('')),
        /ipset restore rejected the ipsets at line \d+: create KUBE-KP-TMP-4-1/,
      );
      assert.deepEqual(await ipsetMembers(netns, 'KUBE-CLUSTER-IP'), [
        '172.30.0.1,tcp:80',
        '172.30.0.2,tcp:80',
      ]);
      assert.equal(dataplane.counters.failedSyncs, 1);
      await runChecked(['ipset', 'destroy', 'KUBE-KP-TMP-4-1'], { netns });
      assert.deepEqual([...(await dataplane.sync(stateOf(web, lb, dns), new Set())).failed], []);
      assert.equal((await ipsetMembers(netns, 'KUBE-CLUSTER-IP')).length, 3);
    });

    it('rejected iptables rules keep the previous rules and name the Service; IPVS is still updated', {
      skip: kernelHasIpvs() && 'xt_ipvs loads here',
    }, async () => {
      const before = await runChecked(['iptables-save', '-t', 'filter'], { netns });
      // The node is outside this LB's source ranges, so kube-proxy drops the node's own traffic to it
      // with an `-m ipvs` match, which this kernel (no IPVS) refuses.
      const closed: ServiceSpec = {
        ...lb,
        id: 'ns/closed',
        clusterIP: '172.30.0.3',
        loadBalancerIPs: ['192.168.70.11'],
        sourceRanges: ['10.9.0.0/16'],
      };
      const fewer: ServiceSpec = { ...web, endpoints: [endpoint('10.1.0.1')] };
      ipvsadm.failOn = (line) => line.includes('172.30.0.3:80');
      const result = await dataplane.sync(
        stateOf(fewer, lb, dns, closed),
        new Set(['ns/closed', 'ns/web:http']),
      );
      ipvsadm.failOn = () => false;
      assert.deepEqual([...result.failed.keys()], ['ns/closed']);
      // Both steps' failures, under the one Service port.
      assert.match(String(result.failed.get('ns/closed')), /iptables-restore .*Service port ns\/closed/);
      assert.match(
        String(result.failed.get('ns/closed')),
        /ipvsadm -R did not apply 2 line\(s\) of Service port ns\/closed/,
      );
      assert.equal(dataplane.counters.failedSyncs, 2);
      assert.equal(await runChecked(['iptables-save', '-t', 'filter'], { netns }).then(strip), strip(before));
      // The removed pod gets no more traffic, and the new Service is served.
      assert.deepEqual(
        [...(ipvsadm.table.get('-t 172.30.0.1:80')?.realServers.keys() ?? [])],
        ['10.1.0.1:8080'],
      );
      assert.ok(ipvsadm.table.has('-t 192.168.70.11:80'));
      assert.ok((await serviceAddresses(netns)).includes('192.168.70.11'));
    });

    it('a line ipvsadm refuses fails its Service alone; the others are programmed', async () => {
      const extra: ServiceSpec = {
        id: 'ns/extra',
        clusterIP: '172.30.0.4',
        endpoints: [endpoint('10.1.0.7')],
      };
      ipvsadm.failOn = (line) => line.includes('172.30.0.4:80');
      const failed = (await dataplane.sync(stateOf(web, lb, dns, extra), new Set(['ns/extra']))).failed;
      ipvsadm.failOn = () => false;
      assert.deepEqual([...failed.keys()], ['ns/extra']);
      assert.match(
        String(failed.get('ns/extra')),
        /ipvsadm -R did not apply 2 line\(s\) of Service port ns\/extra/,
      );
      assert.ok(ipvsadm.table.has('-t 172.30.0.1:80'));
      assert.deepEqual([...(await dataplane.sync(stateOf(web, lb, dns, extra), new Set())).failed], []);
      assert.ok(ipvsadm.table.has('-t 172.30.0.4:80'));
    });

    it('a scheduler flag added to an otherwise unchanged Service reaches an ipvsadm that prints none', async () => {
      ipvsadm.showsSchedulerFlags = false;
      try {
        const withFlag = freezeProxyState(NODE, [
          servicePort(web),
          { ...servicePort(lb), schedulerFlags: ['sh-port'] },
          servicePort(dns),
        ]);
        assert.deepEqual([...(await dataplane.sync(withFlag, new Set(['ns/lb']))).failed], []);
        assert.deepEqual(ipvsadm.table.get('-t 172.30.0.2:80')?.flags, ['sh-port']);
        const restores = ipvsadm.restores.length;
        assert.deepEqual([...(await dataplane.sync(withFlag, new Set())).failed], []);
        assert.equal(ipvsadm.restores.length, restores, 'nothing to change the second time');
      } finally {
        ipvsadm.showsSchedulerFlags = true;
      }
    });

    it('cleanup leaves the namespace as it found it', async () => {
      await dataplane.cleanup();
      assert.equal(await netnsSnapshot(netns), pristine);
      assert.equal(ipvsadm.table.size, 0);
    });

    it('the real ipvsadm on a kernel without IPVS: a clear error, counted as a failed sync', {
      skip: kernelHasIpvs() && 'this kernel has IPVS',
    }, async () => {
      const real = new IpvsKernelDataplane({ render, netns });
      const result = await real.sync(stateOf(web), new Set());
      const error = result.failed.get('');
      assert.ok(error instanceof KproxyError, String(error));
      assert.equal(error.code, 'KPROXY_E_NO_IPVS');
      assert.match(error.message, /the kernel has no IPVS/);
      assert.match(error.hint ?? '', /--ipvs-placement nftables/);
      assert.equal(real.counters.failedSyncs, 1);
      await real.cleanup();
      assert.equal(await netnsSnapshot(netns), pristine);
    });
  },
);

/** iptables-save without its comment lines and counters. */
function strip(saved: string): string {
  return saved
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .map((line) => line.replace(/\[\d+:\d+\]/, ''))
    .join('\n');
}

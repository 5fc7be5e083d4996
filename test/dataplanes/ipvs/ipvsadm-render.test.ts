import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipsetRestoreText } from '../../../src/dataplanes/ipvs/ipset-restore.js';
import { desiredIpvs } from '../../../src/dataplanes/ipvs/ipvs-desired.js';
import { ipvsadmRenderer } from '../../../src/dataplanes/ipvs/ipvsadm-renderer.js';
import { endpoint, renderOptions, stateOf } from '../nftables/fixtures.js';

const pods = [endpoint('10.1.0.1'), endpoint('10.1.0.2'), endpoint('10.1.0.3')];

describe('ipvsadm-restore text (kernels with IPVS)', () => {
  it('renders virtual and real servers, persistence, ipsets and kube-ipvs0 addresses like kube-proxy', () => {
    const state = stateOf(
      {
        id: 'ns/web',
        clusterIP: '172.30.0.1',
        endpoints: pods.slice(0, 2),
        nodePort: 30080,
        affinitySeconds: 10800,
      },
      {
        id: 'ns/lb',
        clusterIP: '172.30.0.2',
        endpoints: pods.slice(0, 1),
        loadBalancerIPs: ['192.168.70.10'],
        sourceRanges: ['192.168.50.0/24'],
        local: true,
        scheduler: 'sh',
      },
      {
        id: 'ns/dns',
        clusterIP: '172.30.0.10',
        port: 53,
        protocol: 'UDP',
        endpoints: [endpoint('10.1.0.5', 53)],
      },
    );
    const text = ipvsadmRenderer.render(state, renderOptions());
    const lines = text.split('\n');
    for (const line of [
      '-A -t 172.30.0.1:80 -s rr -p 10800',
      '-a -t 172.30.0.1:80 -r 10.1.0.1:8080 -m -w 1',
      '-a -t 172.30.0.1:80 -r 10.1.0.2:8080 -m -w 1',
      '-A -t 192.168.50.1:30080 -s rr -p 10800',
      '-A -t 192.168.70.10:80 -s sh',
      '-A -u 172.30.0.10:53 -s rr',
      '-a -u 172.30.0.10:53 -r 10.1.0.5:53 -m -w 1',
      'create KUBE-CLUSTER-IP hash:ip,port family inet hashsize 1024 maxelem 65536',
      'add KUBE-CLUSTER-IP 172.30.0.1,tcp:80',
      'add KUBE-CLUSTER-IP 172.30.0.10,udp:53',
      'add KUBE-NODE-PORT-TCP 30080',
      'add KUBE-LOAD-BALANCER-LOCAL 192.168.70.10,tcp:80',
      'add KUBE-LOAD-BALANCER-FW 192.168.70.10,tcp:80',
      'add KUBE-LOAD-BALANCER-SOURCE-CIDR 192.168.70.10,tcp:80,192.168.50.0/24',
      'add KUBE-LOOP-BACK 10.1.0.1,tcp:8080,10.1.0.1',
      '172.30.0.1/32',
      '192.168.70.10/32',
    ]) {
      assert.ok(lines.includes(line), `missing: ${line}\n${text}`);
    }
  });

  it('IPv6 uses bracketed virtual servers, KUBE-6- sets and /128 addresses', () => {
    const state = stateOf({ id: 'ns/v6', clusterIP: 'fd00:30::1', endpoints: [endpoint('fd00:1::1')] });
    const text = ipvsadmRenderer.render(state, renderOptions({ ipFamily: 'IPv6', nodeIPs: [] }));
    assert.match(text, /^-a -t \[fd00:30::1\]:80 -r \[fd00:1::1\]:8080 -m -w 1$/m);
    assert.match(text, /^add KUBE-6-CLUSTER-IP fd00:30::1,tcp:80$/m);
    assert.match(text, /^fd00:30::1\/128$/m);
  });
});

describe('ipvsadm mode: the iptables rules that match the sets, and kube-proxy details', () => {
  const remote = endpoint('10.1.0.9', 8080, false);
  const state = stateOf(
    { id: 'ns/web', clusterIP: '172.30.0.1', endpoints: [pods[0] ?? remote, remote], nodePort: 30080 },
    {
      id: 'ns/closed',
      clusterIP: '172.30.0.2',
      endpoints: [remote],
      loadBalancerIPs: ['192.168.70.11'],
      sourceRanges: ['10.9.0.0/16'],
      local: true,
      externalIPs: ['192.168.80.1'],
    },
  );
  const lines = (overrides = {}) => ipvsadmRenderer.render(state, renderOptions(overrides)).split('\n');

  it('prints the iptables part: masquerade from outside clusterCIDR, node ports, LB firewall, hairpin', () => {
    const text = lines();
    for (const line of [
      '# iptables-restore --noflush',
      '-A KUBE-SERVICES -s 127.0.0.0/8 -j RETURN',
      '-A KUBE-SERVICES -m comment --comment "Kubernetes service cluster ip + port for masquerade purpose" -m set --match-set KUBE-CLUSTER-IP dst,dst ! -s 10.1.0.0/16 -j KUBE-MARK-MASQ',
      '-A KUBE-NODE-PORT -p tcp -m comment --comment "Kubernetes nodeport TCP port for masquerade purpose" -m set --match-set KUBE-NODE-PORT-TCP dst -j KUBE-MARK-MASQ',
      '-A KUBE-POSTROUTING -m comment --comment "Kubernetes endpoints dst ip:port, source ip for solving hairpin purpose" -m set --match-set KUBE-LOOP-BACK dst,dst,src -j MASQUERADE',
      '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN',
      '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000',
      '-A KUBE-PROXY-FIREWALL -m comment --comment "Kubernetes service load balancer ip + port for load balancer with sourceRange" -m set --match-set KUBE-LOAD-BALANCER-FW dst,dst -j KUBE-SOURCE-RANGES-FIREWALL',
      '-A KUBE-SOURCE-RANGES-FIREWALL -j DROP',
      '-A KUBE-IPVS-OUT-FILTER -s 192.168.70.11 -m ipvs --vaddr 192.168.70.11 --vproto tcp --vport 80 -j DROP',
      '-A KUBE-IPVS-FILTER -m conntrack --ctstate NEW -m set --match-set KUBE-IPVS-IPS dst -j REJECT',
      'add KUBE-IPVS-IPS 192.168.70.11',
      'add KUBE-EXTERNAL-IP-LOCAL 192.168.80.1,tcp:80',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
  });

  it('masqueradeAll marks all cluster IP traffic; without a clusterCIDR only what comes from a Service address', () => {
    assert.ok(
      lines({ masqueradeAll: true }).some((l) => /KUBE-CLUSTER-IP dst,dst -j KUBE-MARK-MASQ$/.test(l)),
    );
    assert.ok(lines({ clusterCIDRs: [] }).some((l) => /KUBE-CLUSTER-IP src,dst -j KUBE-MARK-MASQ$/.test(l)));
  });

  it('KUBE-LOOP-BACK holds local endpoints only; every set is created even when empty', () => {
    const text = lines();
    assert.ok(text.includes('add KUBE-LOOP-BACK 10.1.0.1,tcp:8080,10.1.0.1'));
    assert.ok(!text.some((l) => l.startsWith('add KUBE-LOOP-BACK 10.1.0.9')));
    assert.ok(text.includes('create KUBE-NODE-PORT-UDP bitmap:port range 0-65535'));
    assert.ok(!text.some((l) => l.startsWith('add KUBE-NODE-PORT-UDP')));
  });

  it('ETP Local without a local endpoint keeps the cluster endpoints for external addresses, as kube-proxy', () => {
    assert.ok(lines().includes('-a -t 192.168.70.11:80 -r 10.1.0.9:8080 -m -w 1'));
  });

  it('node ports get virtual servers on the node addresses in nodePortAddresses only', () => {
    const text = ipvsadmRenderer.render(
      stateOf({ id: 'ns/np', clusterIP: '172.30.0.6', nodePort: 30001 }),
      renderOptions({ nodeIPs: ['192.168.50.1', '10.0.0.5'], nodePortAddresses: ['10.0.0.0/8'] }),
    );
    assert.match(text, /^-A -t 10\.0\.0\.5:30001 -s rr$/m);
    assert.doesNotMatch(text, /192\.168\.50\.1:30001/);
  });

  it('the node address is never bound to kube-ipvs0', () => {
    const bound = ipvsadmRenderer
      .render(
        stateOf({ id: 'ns/x', clusterIP: '172.30.0.5', externalIPs: ['192.168.50.1'] }),
        renderOptions(),
      )
      .split('# ip address add … dev kube-ipvs0\n')[1]
      ?.split('\n#')[0];
    assert.equal(bound, '172.30.0.5/32');
  });
});

describe('ipset restore input', () => {
  const state = stateOf({ id: 'ns/web', clusterIP: '172.30.0.1', endpoints: pods, nodePort: 30080 });
  const sets = desiredIpvs(state, renderOptions()).sets;
  const restore = ipsetRestoreText(sets, 'IPv4');
  const lines = restore.text.trim().split('\n');

  it('fills every temporary set before the first swap, so a failing line swaps nothing', () => {
    const lastAdd = lines.map((l) => l.startsWith('add ')).lastIndexOf(true);
    const firstSwap = lines.findIndex((l) => l.startsWith('swap '));
    assert.ok(lastAdd > 0 && firstSwap > lastAdd);
    assert.ok(lines.includes('add KUBE-KP-TMP-4-1 172.30.0.1,tcp:80'));
    assert.ok(lines.includes('swap KUBE-KP-TMP-4-1 KUBE-CLUSTER-IP'));
    assert.ok(lines.includes('destroy KUBE-KP-TMP-4-1'));
  });

  it('names the Service port of each entry, so a rejected line is blamed on it', () => {
    const at = lines.indexOf('add KUBE-KP-TMP-4-1 172.30.0.1,tcp:80') + 1;
    assert.equal(restore.lineOwners[at], 'ns/web');
  });

  it('IPv6 sets are KUBE-6-, cut to 31 characters', () => {
    const v6 = ipsetRestoreText(new Map(), 'IPv6').text;
    assert.match(v6, /^create KUBE-6-LOAD-BALANCER-SOURCE-CID hash:ip,port,net family inet6 /m);
  });
});

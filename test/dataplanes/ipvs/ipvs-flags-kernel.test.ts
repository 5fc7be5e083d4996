/**
 * Scheduler flags in the kernel (ipvs mode without IPVS, nftables maps), with real connections
 * from ONE client address, as in the seed: mh with kube-proxy's mh-port and sh with sh-port
 * hash the source port too and so spread that client's connections; sh without flags keeps it
 * on one pod. IPv4 and IPv6.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IpvsNftablesDataplane } from '../../../src/dataplanes/ipvs/ipvs-dataplane.js';
import { UserspaceDataplane } from '../../../src/dataplanes/userspace/userspace-dataplane.js';
import { freezeProxyState, type ProxyState } from '../../../src/model/proxy-state.js';
import { endpoint, renderOptions, servicePort } from '../nftables/fixtures.js';
import { kernelTestOptions, NetnsLab } from '../nftables/netns-lab.js';

const pods = ['10.1.0.1', '10.1.0.2', '10.1.0.3'];
const pods6 = ['fd00:1::1', 'fd00:1::2'];
// All 60 (IPv6: 40) connections on one pod by chance: below 1e-11.
const CONNECTIONS = 60;

function stateOf(
  podIPs: readonly string[],
  services: readonly [clusterIP: string, scheduler: string, flags?: string[]][],
): ProxyState {
  return freezeProxyState(
    'node-a',
    services.map(([clusterIP, scheduler, schedulerFlags]) => ({
      ...servicePort({
        id: `ns/${scheduler}-${clusterIP}`,
        clusterIP,
        endpoints: podIPs.map((ip) => endpoint(ip)),
        scheduler,
      }),
      schedulerFlags,
    })),
  );
}

describe('ipvs scheduler flags in the kernel, one client address', kernelTestOptions(), () => {
  const lab = new NetnsLab('ipvsflags');
  const userspace = new UserspaceDataplane({
    scheduler: 'rr',
    listenAddress: () => ({ host: '127.0.0.1', port: 0 }),
  });
  const dataplanes: IpvsNftablesDataplane[] = [];
  const dataplane = (family: 'IPv4' | 'IPv6') => {
    const created = new IpvsNftablesDataplane({
      render:
        family === 'IPv4'
          ? renderOptions({ nodeIPs: [lab.nodeIP] })
          : renderOptions({ ipFamily: 'IPv6', nodeIPs: ['fd00:50::1'], clusterCIDRs: ['fd00:1::/64'] }),
      userspace,
      runner: lab.nft(),
    });
    dataplanes.push(created);
    return created;
  };
  /** The distinct pods CONNECTIONS connections from the first client address reached. */
  const podsReached = (ip: string, source: string, count = CONNECTIONS) =>
    new Set(lab.connect(ip, 80, count, [source]));

  before(async () => {
    lab.create();
    lab.addIPv6();
    await lab.startPods([...pods, ...pods6], 8080);
    const v4 = await dataplane('IPv4').sync(
      stateOf(pods, [
        ['172.30.0.21', 'mh'],
        ['172.30.0.22', 'sh'],
        ['172.30.0.23', 'sh', ['sh-port']],
      ]),
      new Set(),
    );
    assert.equal(v4.failed.size, 0, [...v4.failed.values()].join('\n'));
    const v6 = await dataplane('IPv6').sync(
      stateOf(pods6, [
        ['fd00:30::21', 'mh'],
        ['fd00:30::22', 'sh'],
      ]),
      new Set(),
    );
    assert.equal(v6.failed.size, 0, [...v6.failed.values()].join('\n'));
  });
  after(async () => {
    for (const created of dataplanes) await created.cleanup();
    lab.destroy();
  });

  it('mh with its default flags (mh-port) reaches more than one pod from one client address', () => {
    const reached = podsReached('172.30.0.21', lab.clientIPs[0] as string);
    assert.ok(reached.size > 1, [...reached].join(','));
    for (const pod of reached) assert.match(pod, /^10\.1\.0\.[123]:8080$/);
  });

  it('sh without flags sends every connection of that client to exactly one pod', () => {
    const reached = podsReached('172.30.0.22', lab.clientIPs[0] as string);
    assert.equal(reached.size, 1, [...reached].join(','));
    assert.match([...reached][0] ?? '', /^10\.1\.0\.[123]:8080$/);
  });

  it('sh with sh-port spreads that client over more than one pod', () => {
    const reached = podsReached('172.30.0.23', lab.clientIPs[0] as string);
    assert.ok(reached.size > 1, [...reached].join(','));
  });

  it('IPv6: mh spreads one client address (ip6 saddr . th sport), sh keeps it on one pod', () => {
    const mh = podsReached('fd00:30::21', 'fd00:50::2', 40);
    assert.deepEqual([...mh].sort(), ['fd00:1::1:8080', 'fd00:1::2:8080']);
    assert.equal(podsReached('fd00:30::22', 'fd00:50::2', 40).size, 1);
  });
});

/**
 * A kproxy stand-in for the restart test: programs the rules of one Service into a network
 * namespace with the real iptables or nftables data plane, says "synced", and stops on SIGTERM
 * through the real Lifecycle, which leaves the rules in place.
 * Usage: node --import tsx test/servers/restart-child.ts NETNS iptables|nftables
 */
import { IptablesDataplane } from '../../src/dataplanes/iptables/iptables-dataplane.js';
import { nftRunner } from '../../src/dataplanes/nftables/nft-runner.js';
import { NftablesDataplane } from '../../src/dataplanes/nftables/nftables-dataplane.js';
import { Lifecycle } from '../../src/servers/lifecycle.js';
import { endpoint, renderOptions, stateOf } from '../dataplanes/nftables/fixtures.js';

const netns = process.argv[2] ?? '';
// Stands for the sync loop, which keeps a real kproxy alive until it is stopped.
const syncLoop = setInterval(() => {}, 60_000);
const lifecycle = new Lifecycle({
  parts: [{ name: 'sync loop', stop: async () => clearInterval(syncLoop) }],
});
const render = renderOptions({ nodeIPs: ['192.168.50.1'] });
const dataplane =
  process.argv[3] === 'iptables'
    ? new IptablesDataplane({ families: [render], netns, wait: true, syncPeriodMs: 3_600_000 })
    : new NftablesDataplane({ render, runner: nftRunner(['ip', 'netns', 'exec', netns, 'nft']) });
const state = stateOf({
  id: 'ns1/web:http',
  clusterIP: '172.30.0.40',
  endpoints: ['10.1.0.1', '10.1.0.2', '10.1.0.3'].map((ip) => endpoint(ip)),
});
// A fresh process knows nothing of the kernel's table: its first sync is a full one.
const result = await dataplane.sync(state, new Set());
if (result.failed.size > 0) throw new Error([...result.failed.values()].join('\n'));
process.stdout.write('synced\n');
await lifecycle.stopped;

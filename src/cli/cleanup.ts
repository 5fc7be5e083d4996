import type { Command } from 'commander';
import { cleanupProxyState } from '../dataplanes/cleanup-everything.js';

export function registerCleanup(program: Command): void {
  program
    .command('cleanup')
    .description(
      'remove every rule kproxy or kube-proxy created (KUBE-* chains and jumps, nftables tables, kube-ipvs0, KUBE-* ipsets), and nothing else',
    )
    .option('--netns <name>', 'clean a named network namespace instead of this one')
    .action(async (flags: { netns?: string }) => {
      const report = await cleanupProxyState(flags.netns);
      console.log(
        [
          `iptables: ${report.iptablesChains} chains removed`,
          `nftables: ${report.nftTables.length > 0 ? report.nftTables.join(', ') : 'no proxy tables'}`,
          `links: ${report.links.length > 0 ? report.links.join(', ') : 'none'}`,
          `ipsets: ${report.ipsets.length > 0 ? report.ipsets.join(', ') : 'none'}`,
          `ipvs: ${report.virtualServers.length} virtual servers removed`,
        ].join('\n'),
      );
    });
}

import type { Command } from 'commander';
import { IptablesApplier } from '../dataplanes/iptables/applier.js';
import {
  type EndpointCount,
  endpointCountsFromSave,
  openConnectionsFromConntrack,
} from '../dataplanes/iptables/endpoint-counters.js';
import { runCommand } from '../dataplanes/netns.js';

interface StatsFlags {
  netns?: string;
  json: boolean;
}

export function registerStats(program: Command): void {
  program
    .command('stats')
    .description("connections per endpoint, from the kernel's iptables counters and conntrack")
    .option('--netns <name>', 'read a named network namespace instead of this one')
    .option('--json', 'print JSON', false)
    .action(async (flags: StatsFlags) => {
      const counts: EndpointCount[] = [];
      for (const family of ['IPv4', 'IPv6'] as const) {
        const applier = new IptablesApplier({ family, netns: flags.netns });
        const saved = await applier.save({ table: 'nat', counters: true }).catch((error: unknown) => {
          if (family === 'IPv4') throw error;
          return '';
        });
        counts.push(...endpointCountsFromSave(saved));
      }
      const conntrack = await runCommand(['conntrack', '-L'], { netns: flags.netns });
      const open =
        conntrack.code === 0 ? openConnectionsFromConntrack(conntrack.stdout) : new Map<string, number>();
      for (const count of counts) count.openNow = open.get(count.endpoint) ?? 0;
      console.log(flags.json ? JSON.stringify(counts, null, 2) : formatStats(counts, conntrack.code === 0));
    });
}

export function formatStats(counts: readonly EndpointCount[], haveConntrack: boolean): string {
  if (counts.length === 0)
    return 'no KUBE-SEP chains: no Service endpoints are programmed with iptables here';
  const lines: string[] = [];
  const byService = new Map<string, EndpointCount[]>();
  for (const count of counts)
    byService.set(count.servicePort, [...(byService.get(count.servicePort) ?? []), count]);
  for (const [service, rows] of byService) {
    const total = rows.reduce((sum, row) => sum + row.connections, 0);
    lines.push(`${service}  (${total} connections)`);
    for (const row of rows) {
      const share = total > 0 ? `${((row.connections / total) * 100).toFixed(1)}%` : '-';
      const open = haveConntrack ? `  open now ${row.openNow}` : '';
      lines.push(
        `  ${row.endpoint.padEnd(24)} ${String(row.connections).padStart(8)}  ${share.padStart(6)}${open}`,
      );
    }
  }
  if (!haveConntrack) lines.push('(conntrack not available: open connections not shown)');
  return lines.join('\n');
}

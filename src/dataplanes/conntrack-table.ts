import { expandIPv6 } from '../model/ip.js';
import type { ConntrackFlow } from './conntrack-flows.js';

/**
 * The UDP entries `conntrack -L -p udp` lists, reduced to what a delete filter matches on, so
 * that a sync spawns `conntrack -D` only for filters that will delete something: one listing
 * instead of a process per Service frontend (each costs ~10 ms of kernel time on a quiet node),
 * which matters on the first sync, when every UDP frontend is a candidate.
 */

export interface ConntrackEntry {
  readonly originalDestination: string;
  readonly originalDestinationPort: number;
  readonly replySource: string;
  readonly replySourcePort: number;
}

/**
 * Parses `conntrack -L` lines such as
 * `udp 17 29 src=192.168.50.2 dst=172.30.0.10 sport=40001 dport=53 [UNREPLIED] src=10.180.0.1 dst=192.168.50.2 sport=5353 dport=40001 mark=0 use=1`:
 * the first src/dst/sport/dport are the original direction, the second the reply.
 */
export function parseConntrackList(text: string): ConntrackEntry[] {
  const entries: ConntrackEntry[] = [];
  for (const line of text.split('\n')) {
    const seen: Record<string, string[]> = {};
    for (const word of line.trim().split(/\s+/)) {
      const equals = word.indexOf('=');
      if (equals <= 0) continue;
      const key = word.slice(0, equals);
      seen[key] = [...(seen[key] ?? []), word.slice(equals + 1)];
    }
    const [, replySource] = seen.src ?? [];
    const [originalDestination] = seen.dst ?? [];
    const [, replySourcePort] = seen.sport ?? [];
    const [originalDestinationPort] = seen.dport ?? [];
    if (!replySource || !originalDestination || !replySourcePort || !originalDestinationPort) continue;
    entries.push({
      originalDestination,
      originalDestinationPort: Number(originalDestinationPort),
      replySource,
      replySourcePort: Number(replySourcePort),
    });
  }
  return entries;
}

/** Whether `flow`'s delete filter would match `entry` (absent fields match anything). */
export function flowMatchesEntry(flow: ConntrackFlow, entry: ConntrackEntry): boolean {
  return (
    flow.originalDestinationPort === entry.originalDestinationPort &&
    (flow.originalDestination === undefined ||
      sameAddress(flow.originalDestination, entry.originalDestination)) &&
    (flow.replySource === undefined || sameAddress(flow.replySource, entry.replySource)) &&
    (flow.replySourcePort === undefined || flow.replySourcePort === entry.replySourcePort)
  );
}

/** The flows that match at least one of `entries`. */
export function flowsWithEntries(
  flows: readonly ConntrackFlow[],
  entries: readonly ConntrackEntry[],
): ConntrackFlow[] {
  const byPort = new Map<number, ConntrackEntry[]>();
  for (const entry of entries) {
    const list = byPort.get(entry.originalDestinationPort) ?? [];
    list.push(entry);
    byPort.set(entry.originalDestinationPort, list);
  }
  return flows.filter((flow) =>
    (byPort.get(flow.originalDestinationPort) ?? []).some((entry) => flowMatchesEntry(flow, entry)),
  );
}

/** conntrack prints IPv6 addresses in their short form, manifests may not: compare them expanded. */
function sameAddress(a: string, b: string): boolean {
  return (
    a === b || (a.includes(':') && b.includes(':') && expandIPv6(a).join(':') === expandIPv6(b).join(':'))
  );
}

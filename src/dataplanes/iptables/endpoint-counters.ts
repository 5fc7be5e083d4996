import { optionValue, parseIptablesRules, ruleComment } from './parse-rules.js';

/**
 * Connections per endpoint as the kernel counted them. A nat rule sees only the first packet of
 * each connection, so a KUBE-SEP chain's DNAT rule's packet counter is the number of connections
 * sent to that endpoint since the rule was loaded. conntrack adds the ones open right now.
 */

export interface EndpointCount {
  /** The Service port (`ns/name:port`), from the rule's comment. */
  readonly servicePort: string;
  /** The endpoint `ip:port`. */
  readonly endpoint: string;
  readonly chain: string;
  /** Connections DNATed to it since its rule was loaded. */
  readonly connections: number;
  /** Connections conntrack tracks to it now (DNATed ones only). */
  openNow: number;
}

/** Reads the DNAT rules of KUBE-SEP chains from `iptables-save -c -t nat`. */
export function endpointCountsFromSave(saved: string): EndpointCount[] {
  const nat = parseIptablesRules(saved).get('nat');
  const counts: EndpointCount[] = [];
  for (const [chain, rules] of nat?.chains ?? []) {
    if (!chain.startsWith('KUBE-SEP-')) continue;
    for (const rule of rules) {
      const endpoint = optionValue(rule.args, '--to-destination')?.value;
      if (!endpoint) continue;
      counts.push({
        servicePort: ruleComment(rule) ?? '',
        endpoint,
        chain,
        connections: rule.packets ?? 0,
        openNow: 0,
      });
    }
  }
  return counts.sort((a, b) =>
    a.servicePort === b.servicePort
      ? a.endpoint < b.endpoint
        ? -1
        : 1
      : a.servicePort < b.servicePort
        ? -1
        : 1,
  );
}

/** Open DNATed connections per endpoint `ip:port`, from `conntrack -L` output. */
export function openConnectionsFromConntrack(listing: string): Map<string, number> {
  const open = new Map<string, number>();
  for (const line of listing.split('\n')) {
    const src = [...line.matchAll(/\bsrc=(\S+)/g)].map((m) => m[1] as string);
    const dst = [...line.matchAll(/\bdst=(\S+)/g)].map((m) => m[1] as string);
    const sport = [...line.matchAll(/\bsport=(\d+)/g)].map((m) => m[1] as string);
    const [originalDst, replySrc, replySport] = [dst[0], src[1], sport[1]];
    if (!originalDst || !replySrc || !replySport || originalDst === replySrc) continue;
    const key = replySrc.includes(':') ? `[${replySrc}]:${replySport}` : `${replySrc}:${replySport}`;
    open.set(key, (open.get(key) ?? 0) + 1);
  }
  return open;
}

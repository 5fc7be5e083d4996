import type { RenderOptions } from '../rule-renderer.js';
import type { NftChain } from './nft-fragment.js';
import { type FamilyTerms, markHex } from './nft-terms.js';

export interface SkeletonMap {
  readonly kind: 'map' | 'set';
  readonly name: string;
  readonly body: string;
}

/** The fixed maps and sets every Service's elements go into. */
export function skeletonMaps(terms: FamilyTerms): SkeletonMap[] {
  const { keyword: k, addressType: a } = terms;
  const frontend = `${a} . inet_proto . inet_service`;
  const verdictMap = (name: string, key: string): SkeletonMap => ({
    kind: 'map',
    name,
    body: `type ${key} : verdict;`,
  });
  return [
    verdictMap('service-ips', frontend),
    verdictMap('service-nodeports', 'inet_proto . inet_service'),
    {
      kind: 'map',
      name: 'service-endpoints',
      body: `typeof ${k} daddr . meta l4proto . th dport . numgen random mod 1 : ${k} daddr . th dport;`,
    },
    {
      kind: 'map',
      name: 'nodeport-endpoints',
      body: `typeof meta l4proto . th dport . numgen random mod 1 : ${k} daddr . th dport;`,
    },
    verdictMap('firewall-ips', frontend),
    verdictMap('no-endpoint-services', frontend),
    verdictMap('no-endpoint-nodeports', 'inet_proto . inet_service'),
    { kind: 'set', name: 'hairpin', body: `type ${a} . ${a};` },
  ];
}

/** How a packet to a node port is recognised: `nodePortAddresses`, or any local address but loopback. */
function nodePortMatch(options: RenderOptions, terms: FamilyTerms): string {
  const cidrs = options.nodePortAddresses.flatMap((entry) =>
    entry === 'primary' ? options.nodeIPs : [entry],
  );
  if (cidrs.length > 0) return `${terms.keyword} daddr { ${cidrs.join(', ')} }`;
  return `fib daddr type local ${terms.keyword} daddr != ${terms.loopback}`;
}

/** The fixed chains: hooks, the two verdict-map lookups, masquerade, the firewall, reject. */
export function skeletonChains(options: RenderOptions, terms: FamilyTerms): NftChain[] {
  const k = terms.keyword;
  const mark = markHex(options.masqueradeBit);
  const clearMark = `0x${(~(1 << options.masqueradeBit) >>> 0).toString(16).padStart(8, '0')}`;
  const frontend = `${k} daddr . meta l4proto . th dport`;
  const nodePort = nodePortMatch(options, terms);
  const base = (name: string, spec: string, rules: string[]): NftChain => ({
    name,
    rules: [`${spec}; policy accept;`, ...rules],
  });
  return [
    {
      name: 'services',
      rules: [`${frontend} vmap @service-ips`, `${nodePort} meta l4proto . th dport vmap @service-nodeports`],
    },
    {
      name: 'endpoints-check',
      rules: [
        `${frontend} vmap @no-endpoint-services`,
        `${nodePort} meta l4proto . th dport vmap @no-endpoint-nodeports`,
      ],
    },
    { name: 'reject-services', rules: ['reject'] },
    base('nat-prerouting', 'type nat hook prerouting priority dstnat', ['jump services']),
    base('nat-output', 'type nat hook output priority -100', ['jump services']),
    base('nat-postrouting', 'type nat hook postrouting priority srcnat', [
      // Fully random source ports, as kube-proxy's nftables mode masquerades.
      `meta mark & ${mark} == ${mark} meta mark set meta mark & ${clearMark} masquerade fully-random`,
      `ct status dnat ${k} saddr . ${k} daddr @hairpin masquerade fully-random`,
    ]),
    base('firewall-check', 'type filter hook prerouting priority -110', [
      `ct state new ${frontend} vmap @firewall-ips`,
    ]),
    base('filter-input', 'type filter hook input priority filter - 1', ['ct state new jump endpoints-check']),
    base('filter-forward', 'type filter hook forward priority filter - 1', [
      'ct state new jump endpoints-check',
    ]),
    base('filter-output', 'type filter hook output priority filter - 1', [
      'ct state new jump endpoints-check',
    ]),
  ];
}

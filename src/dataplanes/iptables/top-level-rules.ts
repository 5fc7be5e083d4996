import type { RenderOptions } from '../rule-renderer.js';
import { optionValue, type ParsedRules, ruleComment } from './parse-rules.js';
import type { IptablesTable, RuleSetBuilder } from './rule-set.js';
import { comment, isCidrOf, markHex } from './rule-text.js';

/** The chains shared by all Services (kube-proxy's names). */
export const topChains = {
  services: 'KUBE-SERVICES',
  nodePorts: 'KUBE-NODEPORTS',
  externalServices: 'KUBE-EXTERNAL-SERVICES',
  forward: 'KUBE-FORWARD',
  proxyFirewall: 'KUBE-PROXY-FIREWALL',
  markMasq: 'KUBE-MARK-MASQ',
  postrouting: 'KUBE-POSTROUTING',
} as const;

const filterChains = [
  topChains.nodePorts,
  topChains.services,
  topChains.externalServices,
  topChains.forward,
  topChains.proxyFirewall,
];
const natChains = [topChains.nodePorts, topChains.services, topChains.markMasq, topChains.postrouting];

/** A jump from a built-in chain into kproxy's chains; a full sync inserts the ones missing. */
export interface BuiltinJump {
  readonly table: IptablesTable;
  readonly chain: string;
  /** The rule's arguments after `-A CHAIN`, as separate words. */
  readonly args: readonly string[];
}

function jump(
  table: IptablesTable,
  chain: string,
  note: string,
  target: string,
  extra: string[] = [],
): BuiltinJump {
  return { table, chain, args: [...extra, '-m', 'comment', '--comment', note, '-j', target] };
}

const newOnly = ['-m', 'conntrack', '--ctstate', 'NEW'];

/** kube-proxy's jumps from the built-in chains, in the order it inserts them. */
export const builtinJumps: readonly BuiltinJump[] = [
  jump('filter', 'INPUT', 'kubernetes load balancer firewall', topChains.proxyFirewall, newOnly),
  jump('filter', 'OUTPUT', 'kubernetes load balancer firewall', topChains.proxyFirewall, newOnly),
  jump('filter', 'FORWARD', 'kubernetes load balancer firewall', topChains.proxyFirewall, newOnly),
  jump('filter', 'INPUT', 'kubernetes health check service ports', topChains.nodePorts),
  jump(
    'filter',
    'INPUT',
    'kubernetes externally-visible service portals',
    topChains.externalServices,
    newOnly,
  ),
  jump(
    'filter',
    'FORWARD',
    'kubernetes externally-visible service portals',
    topChains.externalServices,
    newOnly,
  ),
  jump('filter', 'FORWARD', 'kubernetes forwarding rules', topChains.forward),
  jump('filter', 'INPUT', 'kubernetes service portals', topChains.services, newOnly),
  jump('filter', 'OUTPUT', 'kubernetes service portals', topChains.services, newOnly),
  jump('filter', 'FORWARD', 'kubernetes service portals', topChains.services, newOnly),
  jump('nat', 'OUTPUT', 'kubernetes service portals', topChains.services),
  jump('nat', 'PREROUTING', 'kubernetes service portals', topChains.services),
  jump('nat', 'POSTROUTING', 'kubernetes postrouting rules', topChains.postrouting),
];

/** Creates the top-level chains first (so they are written first) with their fixed rules. */
export function addTopLevelChains(out: RuleSetBuilder): void {
  for (const name of filterChains) out.chain('filter', name);
  for (const name of natChains) out.chain('nat', name);
}

/** Rules that do not depend on any Service: masquerade marking, forwarding, and the node-port jump (last in KUBE-SERVICES). */
export function addFixedRules(out: RuleSetBuilder, options: RenderOptions): void {
  const mark = markHex(options.masqueradeBit);
  out.rule('nat', topChains.markMasq, `-j MARK --or-mark ${mark}`);
  out.rule('nat', topChains.postrouting, `-m mark ! --mark ${mark}/${mark} -j RETURN`);
  // Clear the mark so a packet re-entering the stack (e.g. via a tunnel) is not masqueraded again.
  out.rule('nat', topChains.postrouting, `-j MARK --xor-mark ${mark}`);
  // Fully random source ports, as kube-proxy asks for whenever iptables can: otherwise two pods'
  // connections to one endpoint may race for the same mapped port and one of them loses packets.
  const randomFully = options.masqueradeRandomFully === false ? '' : ' --random-fully';
  out.rule(
    'nat',
    topChains.postrouting,
    `${comment('kubernetes service traffic requiring SNAT')} -j MASQUERADE${randomFully}`,
  );
  out.rule('filter', topChains.forward, '-m conntrack --ctstate INVALID -j DROP');
  out.rule(
    'filter',
    topChains.forward,
    `${comment('kubernetes forwarding rules')} -m mark --mark ${mark}/${mark} -j ACCEPT`,
  );
  out.rule(
    'filter',
    topChains.forward,
    `${comment('kubernetes forwarding conntrack rule')} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`,
  );
  const note = comment('kubernetes service nodeports; NOTE: this must be the last rule in this chain');
  for (const destination of nodePortDestinations(options)) {
    out.rule('nat', topChains.services, `${note} ${destination} -j ${topChains.nodePorts}`);
  }
}

/** Where node ports answer: every local address (but not loopback unless allowed), or the configured CIDRs. */
export function nodePortDestinations(options: RenderOptions): string[] {
  const family = options.ipFamily;
  const cidrs = options.nodePortAddresses.flatMap((entry) =>
    entry === 'primary'
      ? options.nodeIPs.map((ip) => (family === 'IPv4' ? `${ip}/32` : `${ip}/128`))
      : [entry],
  );
  const valid = cidrs.filter((cidr) => isCidrOf(cidr, family));
  if (options.nodePortAddresses.length > 0) return valid.map((cidr) => `-d ${cidr}`);
  if (family === 'IPv6') return ['-m addrtype --dst-type LOCAL ! -d ::1/128'];
  return [
    options.localhostNodePorts
      ? '-m addrtype --dst-type LOCAL'
      : '-m addrtype --dst-type LOCAL ! -d 127.0.0.0/8',
  ];
}

/** The jumps (iptables mode's by default) `saved` (parsed `iptables-save` output) lacks, matched by chain, comment and target. */
export function missingJumps(
  saved: ParsedRules,
  jumps: readonly BuiltinJump[] = builtinJumps,
): BuiltinJump[] {
  return jumps.filter((jump) => {
    const note = jump.args[jump.args.indexOf('--comment') + 1];
    const target = jump.args[jump.args.length - 1];
    const rules = saved.get(jump.table)?.chains.get(jump.chain) ?? [];
    return !rules.some(
      (rule) => ruleComment(rule) === note && optionValue(rule.args, '-j')?.value === target,
    );
  });
}

/** iptables understands `--random-fully` from 1.6.2 on (kube-proxy's test), read from `iptables --version`. */
export function iptablesHasRandomFully(versionOutput: string): boolean {
  const found = /v(\d+)\.(\d+)\.(\d+)/.exec(versionOutput);
  if (!found) return false;
  const [major, minor, patch] = found.slice(1).map(Number) as [number, number, number];
  return major > 1 || (major === 1 && (minor > 6 || (minor === 6 && patch >= 2)));
}

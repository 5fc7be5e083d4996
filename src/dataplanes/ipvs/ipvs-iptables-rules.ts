/**
 * The iptables rules of kube-proxy's ipvs mode (proxier.go's writeIptablesRules): a handful of
 * fixed chains whose rules match the ipsets rather than one rule per Service. IPVS does the
 * load balancing; these rules decide what is masqueraded, which source ranges may reach a load
 * balancer, and that nothing but a Service port answers on a Service address.
 */
import type { IptablesRuleSet, IptablesTable } from '../iptables/rule-set.js';
import { RuleSetBuilder } from '../iptables/rule-set.js';
import { isCidrOf, markHex } from '../iptables/rule-text.js';
import type { BuiltinJump } from '../iptables/top-level-rules.js';
import type { RenderOptions } from '../rule-renderer.js';
import type { DesiredIpvs } from './ipvs-desired.js';
import { type IpvsSetKey, ipsetName, ipvsSets } from './ipvs-sets.js';

/** ipvs mode's chains, in kube-proxy's order (`kproxy cleanup` removes them too). */
export const ipvsChains: readonly (readonly [IptablesTable, string])[] = [
  ['nat', 'KUBE-SERVICES'],
  ['nat', 'KUBE-POSTROUTING'],
  ['nat', 'KUBE-NODE-PORT'],
  ['nat', 'KUBE-LOAD-BALANCER'],
  ['nat', 'KUBE-MARK-MASQ'],
  ['filter', 'KUBE-FORWARD'],
  ['filter', 'KUBE-NODE-PORT'],
  ['filter', 'KUBE-PROXY-FIREWALL'],
  ['filter', 'KUBE-SOURCE-RANGES-FIREWALL'],
  ['filter', 'KUBE-IPVS-FILTER'],
  ['filter', 'KUBE-IPVS-OUT-FILTER'],
];

function jump(table: IptablesTable, chain: string, note: string, target: string): BuiltinJump {
  return { table, chain, args: ['-m', 'comment', '--comment', note, '-j', target] };
}

/** The jumps from the built-in chains, inserted at their head when missing. */
export const ipvsBuiltinJumps: readonly BuiltinJump[] = [
  jump('nat', 'OUTPUT', 'kubernetes service portals', 'KUBE-SERVICES'),
  jump('nat', 'PREROUTING', 'kubernetes service portals', 'KUBE-SERVICES'),
  jump('nat', 'POSTROUTING', 'kubernetes postrouting rules', 'KUBE-POSTROUTING'),
  jump('filter', 'FORWARD', 'kubernetes forwarding rules', 'KUBE-FORWARD'),
  jump('filter', 'INPUT', 'kubernetes health check rules', 'KUBE-NODE-PORT'),
  jump('filter', 'INPUT', 'kube-proxy firewall rules', 'KUBE-PROXY-FIREWALL'),
  jump('filter', 'FORWARD', 'kube-proxy firewall rules', 'KUBE-PROXY-FIREWALL'),
  jump('filter', 'INPUT', 'kubernetes ipvs access filter', 'KUBE-IPVS-FILTER'),
  jump('filter', 'OUTPUT', 'kubernetes ipvs access filter', 'KUBE-IPVS-OUT-FILTER'),
];

/** Set-matching jumps written when their set has entries (kube-proxy's ipsetWithIptablesChain). */
const setJumps: readonly [IpvsSetKey, IptablesTable, string, string, string, string?][] = [
  ['loopBack', 'nat', 'KUBE-POSTROUTING', 'MASQUERADE', 'dst,dst,src'],
  ['loadBalancer', 'nat', 'KUBE-SERVICES', 'KUBE-LOAD-BALANCER', 'dst,dst'],
  ['loadBalancerLocal', 'nat', 'KUBE-LOAD-BALANCER', 'RETURN', 'dst,dst'],
  ['nodePortLocalTCP', 'nat', 'KUBE-NODE-PORT', 'RETURN', 'dst', 'tcp'],
  ['nodePortTCP', 'nat', 'KUBE-NODE-PORT', 'KUBE-MARK-MASQ', 'dst', 'tcp'],
  ['nodePortLocalUDP', 'nat', 'KUBE-NODE-PORT', 'RETURN', 'dst', 'udp'],
  ['nodePortUDP', 'nat', 'KUBE-NODE-PORT', 'KUBE-MARK-MASQ', 'dst', 'udp'],
  ['nodePortLocalSCTP', 'nat', 'KUBE-NODE-PORT', 'RETURN', 'dst,dst', 'sctp'],
  ['nodePortSCTP', 'nat', 'KUBE-NODE-PORT', 'KUBE-MARK-MASQ', 'dst,dst', 'sctp'],
  ['loadBalancerFW', 'filter', 'KUBE-PROXY-FIREWALL', 'KUBE-SOURCE-RANGES-FIREWALL', 'dst,dst'],
  ['loadBalancerSourceCIDR', 'filter', 'KUBE-SOURCE-RANGES-FIREWALL', 'RETURN', 'dst,dst,src'],
  ['loadBalancerSourceIP', 'filter', 'KUBE-SOURCE-RANGES-FIREWALL', 'RETURN', 'dst,dst,src'],
];

export function buildIpvsIptablesRules(desired: DesiredIpvs, options: RenderOptions): IptablesRuleSet {
  const out = new RuleSetBuilder();
  for (const [table, chain] of ipvsChains) out.chain(table, chain);
  const name = (key: IpvsSetKey) => ipsetName(key, options.ipFamily);
  const has = (key: IpvsSetKey) => (desired.sets.get(key)?.size ?? 0) > 0;
  // The set comments are kube-proxy's own fixed text, never anything from a manifest.
  const matchSet = (key: IpvsSetKey, how: string) =>
    `-m comment --comment "${ipvsSets[key].comment}" -m set --match-set ${name(key)} ${how}`;
  const mark = markHex(options.masqueradeBit);
  const nat = (chain: string, spec: string, owner?: string) => out.rule('nat', chain, spec, owner);
  const filter = (chain: string, spec: string, owner?: string) => out.rule('filter', chain, spec, owner);

  nat('KUBE-SERVICES', `-s ${options.ipFamily === 'IPv6' ? '::1/128' : '127.0.0.0/8'} -j RETURN`);
  for (const [key, table, chain, target, how, protocol] of setJumps) {
    if (!has(key)) continue;
    out.rule(table, chain, `${protocol ? `-p ${protocol} ` : ''}${matchSet(key, how)} -j ${target}`);
  }
  if (has('clusterIP')) {
    const cidr = options.clusterCIDRs.find((c) => isCidrOf(c, options.ipFamily));
    // Traffic from outside the pod network to a cluster IP is masqueraded (masqueradeAll: all of it;
    // without a clusterCIDR, what the node sends from a Service address).
    const which = options.masqueradeAll ? 'dst,dst' : cidr ? `dst,dst ! -s ${cidr}` : 'src,dst';
    nat('KUBE-SERVICES', `${matchSet('clusterIP', which)} -j KUBE-MARK-MASQ`);
  }
  const externalRules = (key: IpvsSetKey) => {
    // Off-node traffic to an external IP, and traffic to one that is a local address, is accepted here.
    nat(
      'KUBE-SERVICES',
      `${matchSet(key, 'dst,dst')} -m physdev ! --physdev-is-in -m addrtype ! --src-type LOCAL -j ACCEPT`,
    );
    nat('KUBE-SERVICES', `${matchSet(key, 'dst,dst')} -m addrtype --dst-type LOCAL -j ACCEPT`);
  };
  if (has('externalIP')) {
    nat('KUBE-SERVICES', `${matchSet('externalIP', 'dst,dst')} -j KUBE-MARK-MASQ`);
    externalRules('externalIP');
  }
  if (has('externalIPLocal')) externalRules('externalIPLocal');
  nat('KUBE-SERVICES', '-m addrtype --dst-type LOCAL -j KUBE-NODE-PORT');
  nat('KUBE-LOAD-BALANCER', '-j KUBE-MARK-MASQ');
  filter('KUBE-SOURCE-RANGES-FIREWALL', '-j DROP');
  for (const lb of desired.noNodeAccess) {
    const match = `-m ipvs --vaddr ${lb.ip} --vproto ${lb.protocol} --vport ${lb.port}`;
    filter('KUBE-IPVS-OUT-FILTER', `-s ${lb.ip} ${match} -j DROP`, lb.owner);
  }
  for (const key of ['clusterIP', 'loadBalancer'] as const) {
    if (has(key)) nat('KUBE-SERVICES', `-m set --match-set ${name(key)} dst,dst -j ACCEPT`);
  }
  filter(
    'KUBE-FORWARD',
    `-m comment --comment "kubernetes forwarding rules" -m mark --mark ${mark}/${mark} -j ACCEPT`,
  );
  filter(
    'KUBE-FORWARD',
    '-m comment --comment "kubernetes forwarding conntrack rule" -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT',
  );
  filter('KUBE-NODE-PORT', `${matchSet('healthCheckNodePort', 'dst')} -j ACCEPT`);
  for (const key of ['loadBalancer', 'clusterIP', 'externalIP', 'externalIPLocal'] as const) {
    filter('KUBE-IPVS-FILTER', `-m set --match-set ${name(key)} dst,dst -j RETURN`);
  }
  filter('KUBE-IPVS-FILTER', `-m set --match-set ${name('healthCheckNodePort')} dst -j RETURN`);
  // Nothing but a Service port answers on a Service address (kube-proxy's fix for host ports on VIPs).
  filter(
    'KUBE-IPVS-FILTER',
    `-m conntrack --ctstate NEW -m set --match-set ${name('ipvsIPs')} dst -j REJECT`,
  );
  nat('KUBE-POSTROUTING', `-m mark ! --mark ${mark}/${mark} -j RETURN`);
  nat('KUBE-POSTROUTING', `-j MARK --xor-mark ${mark}`);
  const randomFully = options.masqueradeRandomFully === false ? '' : ' --random-fully';
  nat(
    'KUBE-POSTROUTING',
    `-m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE${randomFully}`,
  );
  nat('KUBE-MARK-MASQ', `-j MARK --or-mark ${mark}`);
  return out.build();
}

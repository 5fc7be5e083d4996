/**
 * ipvs mode where the kernel has IPVS, as kube-proxy programs it, for `kproxy rules --mode
 * ipvsadm`: the virtual and real servers (`ipvsadm -R` input: masquerading, weight 1, `-p` for
 * ClientIP affinity, `-b` scheduler flags), the ipsets' contents, the addresses bound to
 * kube-ipvs0, and the iptables rules that match the sets. It prints what the kernel data plane
 * (ipvs-kernel-dataplane.ts) applies: both start from `desiredIpvs`.
 */
import type { ProxyState } from '../../model/proxy-state.js';
import { serializeRuleSet } from '../iptables/serialize.js';
import type { RenderOptions, RuleRenderer } from '../rule-renderer.js';
import { desiredIpvs } from './ipvs-desired.js';
import { buildIpvsIptablesRules } from './ipvs-iptables-rules.js';
import { ipsetCreateSpec, ipsetName, ipvsSetKeys } from './ipvs-sets.js';
import { ipvsadmRestoreText } from './ipvsadm-diff.js';

export function renderIpvsRestore(state: ProxyState, options: RenderOptions): string {
  const desired = desiredIpvs(state, options);
  const family = options.ipFamily;
  const ipsets = ipvsSetKeys.flatMap((key) => [
    `create ${ipsetName(key, family)} ${ipsetCreateSpec(key, family)}`,
    ...[...(desired.sets.get(key)?.keys() ?? [])].map((entry) => `add ${ipsetName(key, family)} ${entry}`),
  ]);
  const prefix = family === 'IPv6' ? 128 : 32;
  return [
    '# ipvsadm-restore',
    ipvsadmRestoreText(desired.table, family === 'IPv6'),
    '# ipset restore',
    ...ipsets,
    '# ip address add … dev kube-ipvs0',
    ...[...desired.addresses].map((ip) => `${ip}/${prefix}`),
    `# ${family === 'IPv6' ? 'ip6tables' : 'iptables'}-restore --noflush`,
    serializeRuleSet(buildIpvsIptablesRules(desired, options)).text,
  ].join('\n');
}

export const ipvsadmRenderer: RuleRenderer = { mode: 'ipvsadm', render: renderIpvsRestore };

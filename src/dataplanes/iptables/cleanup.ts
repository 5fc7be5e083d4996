import { isServiceChainName } from '../../model/chain-names.js';
import type { IPFamily } from '../../model/service.js';
import { ipvsChains } from '../ipvs/ipvs-iptables-rules.js';
import { IptablesApplier, type IptablesBackend } from './applier.js';
import { optionValue, parseIptablesRules } from './parse-rules.js';
import { quoteWord } from './rule-text.js';
import { topChains } from './top-level-rules.js';

/**
 * Chains kube-proxy (any version) or kproxy create: the shared chains, every per-Service chain,
 * the old KUBE-XLB- chains, kube-proxy's canary, and ipvs mode's chains. kubelet's own chains (KUBE-KUBELET-CANARY,
 * KUBE-FIREWALL, KUBE-MARK-DROP) are not ours and stay.
 */
export function isProxyChain(chain: string): boolean {
  return (
    isServiceChainName(chain) ||
    chain.startsWith('KUBE-XLB-') ||
    chain === 'KUBE-PROXY-CANARY' ||
    (Object.values(topChains) as string[]).includes(chain) ||
    ipvsChains.some(([, name]) => name === chain)
  );
}

/**
 * The restore text that removes every proxy chain and every rule elsewhere that jumps into one,
 * from `iptables-save` output; empty when there is nothing to remove.
 */
export function cleanupRestoreText(saved: string): string {
  const lines: string[] = [];
  for (const [table, parsed] of parseIptablesRules(saved)) {
    const owned = [...parsed.chains.keys()].filter(isProxyChain);
    const jumps = [...parsed.chains.entries()]
      .filter(([chain]) => !isProxyChain(chain))
      .flatMap(([, rules]) =>
        rules.filter((rule) => isProxyChain(optionValue(rule.args, '-j')?.value ?? '')),
      );
    if (owned.length === 0 && jumps.length === 0) continue;
    lines.push(`*${table}`);
    for (const rule of jumps) lines.push(`-D ${rule.chain} ${rule.args.map(quoteWord).join(' ')}`);
    for (const chain of owned) lines.push(`:${chain} - [0:0]`);
    for (const chain of owned) lines.push(`-X ${chain}`);
    lines.push('COMMIT');
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** Removes everything kube-proxy or kproxy put in one family's iptables, and nothing else. Returns the chains removed. */
export async function cleanupIptables(options: {
  family: IPFamily;
  netns?: string;
  backend?: IptablesBackend;
}): Promise<number> {
  const applier = new IptablesApplier({ ...options, wait: true });
  const saved = await applier.save();
  const text = cleanupRestoreText(saved);
  await applier.restore({ text, lineOwners: [] });
  return text.split('\n').filter((line) => line.startsWith('-X ')).length;
}

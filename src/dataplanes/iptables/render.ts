import type { ProxyState } from '../../model/proxy-state.js';
import type { RenderOptions, RuleRenderer } from '../rule-renderer.js';
import { type IptablesRuleSet, RuleSetBuilder } from './rule-set.js';
import { serializeRuleSet } from './serialize.js';
import { addServicePortRules } from './service-rules.js';
import { addFixedRules, addTopLevelChains } from './top-level-rules.js';

/** kube-proxy's iptables layout for one family, as data. Service ports are taken in id order, so the output is stable. */
export function buildIptablesRuleSet(state: ProxyState, options: RenderOptions): IptablesRuleSet {
  const out = new RuleSetBuilder();
  addTopLevelChains(out);
  const ports = [...state.servicePorts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const port of ports) addServicePortRules(port, { out, options });
  addFixedRules(out, options);
  return out.build();
}

/** The complete `iptables-restore` (or `ip6tables-restore`) input for `state`. */
export function renderIptablesRestore(state: ProxyState, options: RenderOptions): string {
  return serializeRuleSet(buildIptablesRuleSet(state, options)).text;
}

export const iptablesRenderer: RuleRenderer = {
  mode: 'iptables',
  render: renderIptablesRestore,
};

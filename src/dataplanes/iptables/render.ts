import type { ProxyState, ServicePortState } from '../../model/proxy-state.js';
import type { RenderOptions, RuleRenderer } from '../rule-renderer.js';
import { type IptablesChain, type IptablesRuleSet, RuleSetBuilder } from './rule-set.js';
import { serializeRuleSet } from './serialize.js';
import { addServicePortRules } from './service-rules.js';
import { addFixedRules, addTopLevelChains } from './top-level-rules.js';

/**
 * One Service port's part of the rules: its own chains (owner set) and its rules in the shared
 * top-level chains (chains without owner). The data plane keeps these per Service port, so a
 * partial sync renders only what changed.
 */
export type ServicePortFragment = readonly IptablesChain[];

export function renderServicePortFragment(
  port: ServicePortState,
  options: RenderOptions,
): ServicePortFragment {
  const out = new RuleSetBuilder();
  addServicePortRules(port, { out, options });
  return out.build().chains;
}

/** Service ports in id order, so the output is stable. */
export function servicePortsInOrder(state: ProxyState): ServicePortState[] {
  return [...state.servicePorts.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** Puts fragments (in Service port order) together with the fixed rules into kube-proxy's layout. */
export function assembleRuleSet(
  fragments: Iterable<ServicePortFragment>,
  options: RenderOptions,
): IptablesRuleSet {
  const shared = new RuleSetBuilder();
  addTopLevelChains(shared);
  // A port's own chains are its alone and taken as they are; only the shared chains are merged.
  const owned: IptablesChain[] = [];
  for (const fragment of fragments) {
    for (const chain of fragment) {
      if (chain.owner !== undefined) {
        owned.push(chain);
        continue;
      }
      const target = shared.chain(chain.table, chain.name);
      for (const rule of chain.rules) target.rules.push(rule);
    }
  }
  addFixedRules(shared, options);
  return { chains: [...shared.build().chains, ...owned] };
}

/** kube-proxy's iptables layout for one family, as data. */
export function buildIptablesRuleSet(state: ProxyState, options: RenderOptions): IptablesRuleSet {
  return assembleRuleSet(
    servicePortsInOrder(state).map((port) => renderServicePortFragment(port, options)),
    options,
  );
}

/** The complete `iptables-restore` (or `ip6tables-restore`) input for `state`. */
export function renderIptablesRestore(state: ProxyState, options: RenderOptions): string {
  return serializeRuleSet(buildIptablesRuleSet(state, options)).text;
}

export const iptablesRenderer: RuleRenderer = {
  mode: 'iptables',
  render: renderIptablesRestore,
};

import type { ProxyState } from '../../model/proxy-state.js';
import type { RenderOptions } from '../rule-renderer.js';
import {
  assembleRuleSet,
  renderServicePortFragment,
  type ServicePortFragment,
  servicePortsInOrder,
} from './render.js';
import { chainKey, type IptablesRuleSet } from './rule-set.js';
import { chainKeys, type RestoreText, serializeRuleSet } from './serialize.js';
import { topLevelEdits } from './top-level-edits.js';
import type { BuiltinJump } from './top-level-rules.js';

/** What the kernel held after the last successful restore. */
export interface AppliedRules {
  readonly ruleSet: IptablesRuleSet;
  /** Each Service port's rendered part of `ruleSet`, reused for ports a partial sync leaves alone. */
  readonly fragments: ReadonlyMap<string, ServicePortFragment>;
}

export interface SyncPlanInput {
  readonly state: ProxyState;
  readonly options: RenderOptions;
  readonly applied?: AppliedRules;
  /** The Service ports that changed; undefined for a full sync. A partial sync needs `applied`. */
  readonly changed?: ReadonlySet<string>;
  /** For a full sync: service chains the kernel holds now and the built-in jumps it lacks. */
  readonly kernel?: {
    readonly serviceChains: ReadonlySet<string>;
    readonly missingJumps: readonly BuiltinJump[];
  };
}

export interface SyncPlan {
  readonly next: AppliedRules;
  readonly restore: RestoreText;
}

/**
 * The restore text that takes the kernel from `applied` to `state`. A full sync writes every chain;
 * a partial one re-renders and rewrites only the changed ports' chains and edits the shared
 * top-level chains in place. Either deletes the chains that are gone.
 */
export function planSync(input: SyncPlanInput): SyncPlan {
  const { changed, applied } = input;
  const partial = changed !== undefined && applied !== undefined;
  const fragments = new Map<string, ServicePortFragment>();
  for (const port of servicePortsInOrder(input.state)) {
    const cached = partial && !changed.has(port.id) ? applied.fragments.get(port.id) : undefined;
    fragments.set(port.id, cached ?? renderServicePortFragment(port, input.options));
  }
  const ruleSet = assembleRuleSet(fragments.values(), input.options);
  const stale = partial
    ? staleChainsOfChanged(applied, fragments, changed)
    : staleChains(ruleSet, applied, input.kernel?.serviceChains);
  const restore = serializeRuleSet(ruleSet, {
    include: partial ? (chain) => chain.owner !== undefined && changed.has(chain.owner) : undefined,
    edits: partial ? topLevelEdits(applied.ruleSet, ruleSet) : undefined,
    deleteChains: stale.keys(),
    ownerOfDeleted: (key) => stale.get(key),
    insertRules: input.kernel?.missingJumps,
  });
  return { next: { ruleSet, fragments }, restore };
}

/** Chains (key → owner) the kernel or the last sync had that `next` lacks. */
function staleChains(
  next: IptablesRuleSet,
  applied: AppliedRules | undefined,
  inKernel: ReadonlySet<string> | undefined,
): Map<string, string | undefined> {
  const nextKeys = chainKeys(next);
  const stale = new Map<string, string | undefined>();
  for (const key of inKernel ?? []) if (!nextKeys.has(key)) stale.set(key, undefined);
  for (const chain of applied?.ruleSet.chains ?? []) {
    const key = chainKey(chain.table, chain.name);
    if (!nextKeys.has(key)) stale.set(key, chain.owner);
  }
  return stale;
}

/** On a partial sync only the changed ports' chains can go away: compare their old and new fragments. */
function staleChainsOfChanged(
  applied: AppliedRules,
  fragments: ReadonlyMap<string, ServicePortFragment>,
  changed: ReadonlySet<string>,
): Map<string, string | undefined> {
  const stale = new Map<string, string | undefined>();
  for (const id of changed) {
    const kept = new Set((fragments.get(id) ?? []).map((chain) => chainKey(chain.table, chain.name)));
    for (const chain of applied.fragments.get(id) ?? []) {
      if (chain.owner !== undefined && !kept.has(chainKey(chain.table, chain.name))) {
        stale.set(chainKey(chain.table, chain.name), chain.owner);
      }
    }
  }
  return stale;
}

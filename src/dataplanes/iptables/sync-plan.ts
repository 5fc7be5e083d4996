import type { ProxyState } from '../../model/proxy-state.js';
import type { RenderOptions } from '../rule-renderer.js';
import { fullSyncChunks } from './full-sync-stream.js';
import {
  assembleRuleSet,
  renderServicePortFragment,
  type ServicePortFragment,
  servicePortsInOrder,
} from './render.js';
import { chunksOfRestoreText, type RestoreChunk } from './restore-chunks.js';
import { chainKey, type IptablesRuleSet } from './rule-set.js';
import { chainKeys, serializeRuleSet } from './serialize.js';
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
  /** The restore input. A full sync renders its Service ports once the first chunk has been read. */
  readonly restore: Iterable<RestoreChunk>;
  /** What the kernel holds once `restore` is loaded (renders whatever the restore has not read yet). */
  next(): AppliedRules;
}

/**
 * The restore input that takes the kernel from `applied` to `state`. A full sync writes every
 * chain, produced while the tool reads it (see full-sync-stream.ts); a partial one re-renders and
 * rewrites only the changed ports' chains and edits the shared top-level chains in place. Either
 * deletes the chains that are gone.
 */
export function planSync(input: SyncPlanInput): SyncPlan {
  const { changed, applied } = input;
  if (changed !== undefined && applied !== undefined) return planPartialSync(input, applied, changed);
  const fragments = new Map<string, ServicePortFragment>();
  const restore = fullSyncChunks({
    ports: servicePortsInOrder(input.state),
    options: input.options,
    fragments,
    staleChains: (ruleSet) => {
      assembled = ruleSet;
      return staleChains(ruleSet, applied, input.kernel?.serviceChains);
    },
    insertRules: input.kernel?.missingJumps,
  });
  let assembled: IptablesRuleSet | undefined;
  return {
    restore,
    next: () => {
      let rest = restore.next();
      while (!rest.done) rest = restore.next();
      assembled ??= assembleRuleSet(fragments.values(), input.options);
      return { ruleSet: assembled, fragments };
    },
  };
}

function planPartialSync(
  input: SyncPlanInput,
  applied: AppliedRules,
  changed: ReadonlySet<string>,
): SyncPlan {
  const fragments = new Map<string, ServicePortFragment>();
  for (const port of servicePortsInOrder(input.state)) {
    const cached = changed.has(port.id) ? undefined : applied.fragments.get(port.id);
    fragments.set(port.id, cached ?? renderServicePortFragment(port, input.options));
  }
  const ruleSet = assembleRuleSet(fragments.values(), input.options);
  const stale = staleChainsOfChanged(applied, fragments, changed);
  const restore = serializeRuleSet(ruleSet, {
    include: (chain) => chain.owner !== undefined && changed.has(chain.owner),
    edits: topLevelEdits(applied.ruleSet, ruleSet),
    deleteChains: stale.keys(),
    ownerOfDeleted: (key) => stale.get(key),
  });
  const next = { ruleSet, fragments };
  return { restore: chunksOfRestoreText(restore), next: () => next };
}

/** Chains (key → owner) the kernel or the last sync had that `next` lacks. */
function staleChains(
  next: IptablesRuleSet,
  applied: AppliedRules | undefined,
  inKernel: ReadonlySet<string> | undefined,
): Map<string, string | undefined> {
  const stale = new Map<string, string | undefined>();
  if (applied === undefined && (inKernel === undefined || inKernel.size === 0)) return stale;
  const nextKeys = chainKeys(next);
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

import { log } from '../../log.js';
import { isServiceChainName } from '../../model/chain-names.js';
import type { ProxyState } from '../../model/proxy-state.js';
import type { Dataplane, SyncResult } from '../dataplane.js';
import type { RenderOptions } from '../rule-renderer.js';
import { IptablesApplier, type IptablesBackend, RestoreRejected } from './applier.js';
import { cleanupIptables } from './cleanup.js';
import { type ParsedRules, parseIptablesRules } from './parse-rules.js';
import { chainKey, type IptablesRuleSet, type IptablesTable } from './rule-set.js';
import { chainKeys, serializeRuleSet } from './serialize.js';
import { type AppliedRules, planSync } from './sync-plan.js';
import { type BuiltinJump, missingJumps } from './top-level-rules.js';

export interface IptablesDataplaneOptions {
  /** One entry per family to program (IPv4, IPv6, or both). */
  readonly families: readonly RenderOptions[];
  readonly netns?: string;
  /** `iptables-restore --wait`. */
  readonly wait?: boolean;
  /** The system's iptables by default; `legacy` or `nft` to choose one. */
  readonly backend?: IptablesBackend;
  /** A full rewrite at least this often (kube-proxy's `syncPeriod`); partial syncs in between. */
  readonly syncPeriodMs: number;
  readonly now?: () => number;
}

interface FamilyProgram {
  readonly options: RenderOptions;
  readonly applier: IptablesApplier;
  /** What the kernel holds, as of the last successful restore; unset before the first one. */
  applied?: AppliedRules;
}

/**
 * The iptables data plane: renders kube-proxy's layout and loads it with `iptables-restore
 * --noflush`. A partial sync rewrites only the changed Service ports' chains and the shared
 * top-level chains, deleting chains that are gone; a full sync rewrites everything, its text
 * written into the tool while it is produced (full-sync-stream.ts). A rejected
 * restore puts the previous rules back, is counted, and makes the next sync a full one.
 */
export class IptablesDataplane implements Dataplane {
  readonly name = 'iptables';
  readonly counters = { fullSyncs: 0, partialSyncs: 0, failedSyncs: 0 };
  private readonly programs: FamilyProgram[];
  private readonly now: () => number;
  private needFullSync = true;
  private lastFullSync = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: IptablesDataplaneOptions) {
    this.now = options.now ?? Date.now;
    this.programs = options.families.map((family) => ({
      options: family,
      applier: new IptablesApplier({
        family: family.ipFamily,
        netns: options.netns,
        wait: options.wait,
        backend: options.backend,
      }),
    }));
  }

  async sync(state: ProxyState, changed: ReadonlySet<string>): Promise<SyncResult> {
    const full =
      this.needFullSync || changed.size === 0 || this.now() - this.lastFullSync >= this.options.syncPeriodMs;
    const failed = new Map<string, Error>();
    for (const program of this.programs) {
      try {
        await this.syncFamily(program, state, full ? undefined : changed);
      } catch (error) {
        if (!(error instanceof RestoreRejected)) {
          // A missing tool or privilege: the caller reports it; whatever state the kernel is in, rewrite all next time.
          this.needFullSync = true;
          throw error;
        }
        failed.set(error.servicePortId ?? '', error);
        log.error('iptables-dataplane.ts', 'Failed to execute iptables-restore', {
          ipFamily: program.options.ipFamily,
          err: error.message,
        });
      }
    }
    if (failed.size > 0) {
      this.counters.failedSyncs++;
      this.needFullSync = true;
    } else if (full) {
      this.counters.fullSyncs++;
      this.needFullSync = false;
      this.lastFullSync = this.now();
    } else {
      this.counters.partialSyncs++;
    }
    return { failed };
  }

  /** `changed` undefined means a full sync. */
  private async syncFamily(
    program: FamilyProgram,
    state: ProxyState,
    changed: ReadonlySet<string> | undefined,
  ): Promise<void> {
    // A full sync looks at the kernel: leftover service chains (an earlier run's, or kube-proxy's)
    // are deleted and missing jumps from the built-in chains are put back, in the same restore.
    const kernel = changed ? undefined : await this.readKernel(program);
    const plan = planSync({ state, options: program.options, applied: program.applied, changed, kernel });
    try {
      await program.applier.restoreChunks(plan.restore);
    } catch (error) {
      if (program.applied)
        await this.putBack(program, program.applied.ruleSet, chainKeys(plan.next().ruleSet));
      throw error;
    }
    program.applied = plan.next();
  }

  /** Loads `previous` again in full, dropping chains only the failed attempt created. */
  private async putBack(
    program: FamilyProgram,
    previous: IptablesRuleSet,
    attempted: Set<string>,
  ): Promise<void> {
    const keep = chainKeys(previous);
    const extra = [...attempted].filter(
      (key) => !keep.has(key) && isServiceChainName(key.split('/')[1] ?? ''),
    );
    try {
      await program.applier.restore(serializeRuleSet(previous, { deleteChains: extra }));
    } catch (error) {
      log.error('iptables-dataplane.ts', 'Failed to restore the previous iptables rules', {
        err: String(error),
      });
    }
  }

  /** The service chains in the kernel now, and the jumps from built-in chains it lacks. */
  private async readKernel(
    program: FamilyProgram,
  ): Promise<{ serviceChains: Set<string>; missingJumps: BuiltinJump[] }> {
    const serviceChains = new Set<string>();
    const saved: ParsedRules = new Map();
    for (const table of ['filter', 'nat'] as IptablesTable[]) {
      const parsed = parseIptablesRules(await program.applier.save({ table })).get(table);
      if (!parsed) continue;
      saved.set(table, parsed);
      for (const chain of parsed.chains.keys()) {
        if (isServiceChainName(chain)) serviceChains.add(chainKey(table, chain));
      }
    }
    return { serviceChains, missingJumps: missingJumps(saved) };
  }

  async cleanup(): Promise<void> {
    for (const program of this.programs) {
      await cleanupIptables({
        family: program.options.ipFamily,
        netns: this.options.netns,
        backend: this.options.backend,
      });
      program.applied = undefined;
    }
    this.needFullSync = true;
  }
}

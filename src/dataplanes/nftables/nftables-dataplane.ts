import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KproxyError } from '../../errors.js';
import { log } from '../../log.js';
import type { ProxyState } from '../../model/proxy-state.js';
import type { Dataplane, SyncResult } from '../dataplane.js';
import type { RenderOptions } from '../rule-renderer.js';
import type { NftFragment } from './nft-fragment.js';
import { failedLines, type NftRunner, nftRunner } from './nft-runner.js';
import { NftTableModel, type StagedChange } from './nft-table-model.js';
import { KPROXY_TABLE } from './nft-terms.js';
import { type NftScript, replaceTableScript, transactionScript } from './nft-text.js';
import { FragmentRenderer, type PickerFactory } from './nftables-renderer.js';

export interface NftablesDataplaneOptions {
  /** One family per data plane, as kube-proxy runs one proxier per family. */
  readonly render: RenderOptions;
  /** Default: `nft` on the host; tests pass `['ip', 'netns', 'exec', NS, 'nft']`. */
  readonly runner?: NftRunner;
  /** ipvs mode passes its scheduler picker; nftables mode draws at random. */
  readonly pickers?: PickerFactory;
  readonly name?: string;
}

const MAX_ATTEMPTS = 5;

/**
 * nftables mode: programs `table ip kproxy` (or `ip6`) with `nft -f`, one atomic transaction per
 * sync. The first sync, a sync with an empty `changed` set (a resync) and the sync after a
 * failure nft did not tie to a Service replace the table; the others send only the changed
 * Services' elements, chains and sets.
 */
export class NftablesDataplane implements Dataplane {
  readonly name: string;
  private readonly renderer: FragmentRenderer;
  private readonly runner: NftRunner;
  /** What the kernel holds; undefined until a full sync succeeded. */
  private applied: NftTableModel | undefined;

  constructor(private readonly options: NftablesDataplaneOptions) {
    this.name = options.name ?? 'nftables';
    this.renderer = new FragmentRenderer(options.render, options.pickers);
    this.runner = options.runner ?? nftRunner();
  }

  async sync(state: ProxyState, changed: ReadonlySet<string>): Promise<SyncResult> {
    const previous = this.applied;
    let full = previous === undefined || changed.size === 0;
    let updates = new Map<string, NftFragment | undefined>();
    if (full) {
      for (const [id, fragment] of this.renderer.allFragments(state)) updates.set(id, fragment);
    } else {
      for (const id of changed) updates.set(id, this.renderer.fragment(state, id));
      if (previous && needsNewSharedChain(previous, updates)) {
        // nft 1.0.6 cannot add a rule that looks up a loaded typeof map ("conflicting protocols"),
        // so the first Service with a new endpoint count makes this sync replace the table.
        log.info('nftables.go', 'New pick chain needed, replacing the table', {}, 2);
        full = true;
        const all = new Map<string, NftFragment | undefined>(previous.fragments);
        for (const [id, fragment] of updates) all.set(id, fragment);
        updates = all;
      }
    }
    const failed = new Map<string, Error>();
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const { script, result, commit, conflicts } = full
        ? await this.replaceTable([...defined(updates.values())])
        : await this.applyChange((previous as NftTableModel).stage(updates));
      for (const [id, error] of conflicts) failed.set(id, error);
      if (result.code === 0) {
        commit();
        log.info(
          'nftables.go',
          'Synced nftables rules',
          { full, services: updates.size, lines: script.lines.length },
          2,
        );
        return { failed };
      }
      const culprits = blame(script, result.stderr);
      if (culprits.size === 0) {
        const error = applyError('the whole table', result.stderr);
        log.error('nftables.go', 'nft -f failed, previous rules kept', { error: error.message });
        for (const id of updates.keys()) failed.set(id, error);
        // The kernel kept its rules, but whatever went wrong may not be ours: start over in full.
        this.applied = undefined;
        return { failed };
      }
      for (const id of culprits) {
        const error = applyError(`Service ${id}`, result.stderr);
        log.error('nftables.go', 'nft refused a Service, its previous rules kept', {
          servicePort: id,
          error: error.message,
        });
        failed.set(id, error);
        // Keep what the kernel had for it; if that fails too, the next attempt drops it.
        const kept = attempt === 0 ? previous?.fragments.get(id) : undefined;
        updates.set(id, kept);
      }
    }
    for (const id of updates.keys())
      if (!failed.has(id)) failed.set(id, applyError('the sync', 'too many attempts'));
    return { failed };
  }

  /**
   * A full sync: the declared table goes to nft through a file (nft reads it at its own pace;
   * the model's element index is built after the rules are in the kernel).
   */
  private async replaceTable(fragments: NftFragment[]): Promise<Attempt> {
    const script = replaceTableScript(fragments, this.options.render, this.renderer.terms);
    const dir = mkdtempSync(join(tmpdir(), 'kproxy-nft-'));
    const file = join(dir, 'ruleset.nft');
    writeFileSync(file, `${script.lines.join('\n')}\n`);
    try {
      const result = await this.runner.run(['-f', file]);
      const commit = () => {
        const model = NftTableModel.fromFragments(fragments);
        this.applied = model;
        // Index once the caller has its answer; a partial sync before that indexes first.
        setImmediate(() => model.index());
      };
      return { script, result, conflicts: new Map(), commit };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  private async applyChange(staged: StagedChange): Promise<Attempt> {
    const script = transactionScript(staged, this.renderer.terms);
    const result =
      script.lines.length === 0
        ? { code: 0, stdout: '', stderr: '' }
        : await this.runner.run(['-f', '-'], `${script.lines.join('\n')}\n`);
    return { script, result, conflicts: staged.conflicts, commit: () => staged.base.commit(staged) };
  }

  async cleanup(): Promise<void> {
    const family = this.renderer.terms.keyword;
    await this.runner.run(
      ['-f', '-'],
      `add table ${family} ${KPROXY_TABLE}\ndelete table ${family} ${KPROXY_TABLE}\n`,
    );
    this.applied = undefined;
  }
}

interface Attempt {
  readonly script: NftScript;
  readonly result: { code: number; stderr: string };
  readonly conflicts: ReadonlyMap<string, Error>;
  /** Makes the model match what the kernel now holds. */
  readonly commit: () => void;
}

function needsNewSharedChain(
  model: NftTableModel,
  updates: ReadonlyMap<string, NftFragment | undefined>,
): boolean {
  model.index();
  for (const fragment of updates.values()) {
    for (const chain of fragment?.sharedChains ?? []) if (!model.sharedChains.has(chain.name)) return true;
  }
  return false;
}

function* defined<T>(values: Iterable<T | undefined>): Iterable<T> {
  for (const value of values) if (value !== undefined) yield value;
}

function blame(script: NftScript, stderr: string): Set<string> {
  const owners = new Set<string>();
  for (const line of failedLines(stderr)) {
    const owner = script.owners[line];
    if (owner) owners.add(owner);
  }
  return owners;
}

function applyError(what: string, stderr: string): KproxyError {
  const first = stderr.split('\n').find((line) => line.includes('Error')) ?? stderr.trim();
  return new KproxyError('KPROXY_E_NFT_APPLY', `nft -f refused the rules for ${what}: ${first}`, {
    hint: 'the previous rules stay in place; check the Service addresses and ports, then `nft list table ip kproxy`',
  });
}

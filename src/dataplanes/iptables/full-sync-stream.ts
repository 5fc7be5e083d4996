import type { ServicePortState } from '../../model/proxy-state.js';
import type { RenderOptions } from '../rule-renderer.js';
import { assembleRuleSet, renderServicePortFragment, type ServicePortFragment } from './render.js';
import { chunkOf, type RestoreChunk } from './restore-chunks.js';
import { type IptablesChain, type IptablesRuleSet, type IptablesTable, RuleSetBuilder } from './rule-set.js';
import { quoteWord } from './rule-text.js';
import { addFixedRules, addTopLevelChains, type BuiltinJump } from './top-level-rules.js';

/**
 * A full sync's restore input, produced while iptables-restore already runs.
 *
 * The nat table (almost all of the rules) comes first. Its header goes out before anything is
 * rendered, so the tool loads the kernel's current table (on a node with 10,000 Services, a
 * 430,000-rule table) while the ports are rendered. Then every chain is declared, the ports' own
 * chains in sorted name order: legacy iptables keeps chains in a sorted list, and declaring
 * 120,000 chains in order instead of in random hash order cut the tool's own time by about a
 * sixth here. Then each port's rules, then the fixed rules, which end KUBE-SERVICES with the
 * node-port jump. (iptables-restore accepts declarations anywhere before COMMIT, but a chain must
 * exist before a rule jumps to it; declarations interleaved with rules cost legacy iptables ~20%
 * more.) The filter table, a few rules per port at most, follows. Each table ends with its stale
 * chains, flushed, then deleted.
 */

export interface FullSyncStreamInput {
  /** In the order they are written (Service port id order). */
  readonly ports: readonly ServicePortState[];
  readonly options: RenderOptions;
  /** Receives each port's fragment. */
  readonly fragments: Map<string, ServicePortFragment>;
  /** The chains (table/name key → owner) to delete, given the complete rule set. */
  readonly staleChains: (next: IptablesRuleSet) => ReadonlyMap<string, string | undefined>;
  /** Jumps from the built-in chains to insert. */
  readonly insertRules?: readonly BuiltinJump[];
}

const tables: readonly IptablesTable[] = ['nat', 'filter'];
/** Declarations per chunk: lines of many ports, each with its owner. */
const declarationsPerChunk = 4096;

export function* fullSyncChunks(input: FullSyncStreamInput): Generator<RestoreChunk> {
  const fixed = fixedChains(input.options);
  yield* chunkOf([`*${tables[0]}`]);
  for (const port of input.ports)
    input.fragments.set(port.id, renderServicePortFragment(port, input.options));
  const stale = input.staleChains(assembleRuleSet(input.fragments.values(), input.options));
  for (const [index, table] of tables.entries()) {
    if (index > 0) yield* chunkOf([`*${table}`]);
    yield* chunkOf(declarations(fixed, table));
    yield* ownDeclarations(input.fragments, table);
    for (const [id, fragment] of input.fragments) yield* chunkOf(ruleLines(fragment, table), id);
    yield* tableEnd(table, fixed, stale, input.insertRules);
  }
}

/** `:CHAIN` lines for the ports' own chains in `table`, sorted by name. */
function* ownDeclarations(
  fragments: ReadonlyMap<string, ServicePortFragment>,
  table: IptablesTable,
): Generator<RestoreChunk> {
  const owned = [...fragments.values()].flatMap((fragment) =>
    fragment.filter((chain) => chain.table === table && chain.owner !== undefined),
  );
  owned.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let start = 0; start < owned.length; start += declarationsPerChunk) {
    const batch = owned.slice(start, start + declarationsPerChunk);
    yield {
      text: `${batch.map((chain) => `:${chain.name} - [0:0]`).join('\n')}\n`,
      lines: batch.length,
      lineOwners: batch.map((chain) => chain.owner),
    };
  }
}

/** The top-level chains with the rules that do not depend on any Service. */
function fixedChains(options: RenderOptions): readonly IptablesChain[] {
  const out = new RuleSetBuilder();
  addTopLevelChains(out);
  addFixedRules(out, options);
  return out.build().chains;
}

function declarations(chains: readonly IptablesChain[], table: IptablesTable): string[] {
  return chains.filter((chain) => chain.table === table).map((chain) => `:${chain.name} - [0:0]`);
}

function ruleLines(chains: readonly IptablesChain[], table: IptablesTable): string[] {
  const lines: string[] = [];
  for (const chain of chains) {
    if (chain.table !== table) continue;
    for (const rule of chain.rules) lines.push(`-A ${chain.name} ${rule.spec}`);
  }
  return lines;
}

/** The fixed rules, the stale chains flushed and deleted, the missing jumps inserted, COMMIT. */
function* tableEnd(
  table: IptablesTable,
  fixed: readonly IptablesChain[],
  stale: ReadonlyMap<string, string | undefined>,
  insertRules: readonly BuiltinJump[] = [],
): Generator<RestoreChunk> {
  const rules = fixed
    .filter((chain) => chain.table === table)
    .flatMap((chain) => chain.rules.map((rule) => `-A ${chain.name} ${rule.spec}`));
  yield* chunkOf(rules);
  const prefix = `${table}/`;
  const deleted = [...stale].filter(([key]) => key.startsWith(prefix));
  yield* chunkOf(deleted.map(([key]) => `:${key.slice(prefix.length)} - [0:0]`));
  for (const [key, owner] of deleted) yield* chunkOf([`-X ${key.slice(prefix.length)}`], owner);
  const inserts = insertRules.filter((rule) => rule.table === table);
  yield* chunkOf([
    ...inserts.map((rule) => `-I ${rule.chain} ${rule.args.map(quoteWord).join(' ')}`),
    'COMMIT',
  ]);
}

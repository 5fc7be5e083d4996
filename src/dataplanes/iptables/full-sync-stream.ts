import type { ServicePortState } from '../../model/proxy-state.js';
import type { RenderOptions } from '../rule-renderer.js';
import { assembleRuleSet, renderServicePortFragment, type ServicePortFragment } from './render.js';
import { chunkOf, type RestoreChunk } from './restore-chunks.js';
import { type IptablesChain, type IptablesRuleSet, type IptablesTable, RuleSetBuilder } from './rule-set.js';
import { quoteWord } from './rule-text.js';
import { addFixedRules, addTopLevelChains, type BuiltinJump } from './top-level-rules.js';

/**
 * A full sync's restore input, rendered one Service port at a time while iptables-restore reads it.
 *
 * The nat table (almost all of the rules) comes first. Its chains are declared first: the shared
 * top-level chains, then each port's own chains, written as each port is rendered, so that the
 * tool creates 120,000 chains (10,000 Services × 10 endpoints) while the rendering runs beside
 * it. The rules follow, each port's in one chunk, then the fixed rules, which end KUBE-SERVICES
 * with the node-port jump. (iptables-restore accepts declarations anywhere before COMMIT, but a
 * chain must exist before a rule jumps to it; and legacy iptables-restore takes ~20% longer when
 * declarations and rules are interleaved, so the text keeps kube-proxy's order.) The filter
 * table, a few rules per port at most, is collected meanwhile and written after. Stale chains are
 * known only once every port is rendered, so each table ends with them: flushed, then deleted.
 */

export interface FullSyncStreamInput {
  /** In the order they are written (Service port id order). */
  readonly ports: readonly ServicePortState[];
  readonly options: RenderOptions;
  /** Receives each port's fragment as it is rendered. */
  readonly fragments: Map<string, ServicePortFragment>;
  /** The chains (table/name key → owner) to delete, given the complete rule set. */
  readonly staleChains: (next: IptablesRuleSet) => ReadonlyMap<string, string | undefined>;
  /** Jumps from the built-in chains to insert. */
  readonly insertRules?: readonly BuiltinJump[];
}

const streamedTable: IptablesTable = 'nat';
const collectedTable: IptablesTable = 'filter';

export function* fullSyncChunks(input: FullSyncStreamInput): Generator<RestoreChunk> {
  const fixed = fixedChains(input.options);
  yield* chunkOf([`*${streamedTable}`, ...declarations(fixed, streamedTable)]);
  const collected: RestoreChunk[] = [];
  for (const port of input.ports) {
    const fragment = renderServicePortFragment(port, input.options);
    input.fragments.set(port.id, fragment);
    yield* chunkOf(declarations(ownChains(fragment), streamedTable), port.id);
    collected.push(
      ...chunkOf(
        [...declarations(ownChains(fragment), collectedTable), ...ruleLines(fragment, collectedTable)],
        port.id,
      ),
    );
  }
  for (const [id, fragment] of input.fragments) yield* chunkOf(ruleLines(fragment, streamedTable), id);
  const stale = input.staleChains(assembleRuleSet(input.fragments.values(), input.options));
  yield* tableEnd(streamedTable, fixed, stale, input.insertRules);
  yield* chunkOf([`*${collectedTable}`, ...declarations(fixed, collectedTable)]);
  yield* collected;
  yield* tableEnd(collectedTable, fixed, stale, input.insertRules);
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

/** A port's own chains (its rules in the shared chains aside). */
function ownChains(fragment: ServicePortFragment): IptablesChain[] {
  return fragment.filter((chain) => chain.owner !== undefined);
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

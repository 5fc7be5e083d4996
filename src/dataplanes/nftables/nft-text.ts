import type { RenderOptions } from '../rule-renderer.js';
import { chainBodyLines, elementText, type NftChain, type NftElement, sameChain } from './nft-fragment.js';
import { skeletonChains, skeletonMaps } from './nft-skeleton.js';
import { NftTableModel, ownedObjects, type StagedModel } from './nft-table-model.js';
import { type FamilyTerms, KPROXY_TABLE } from './nft-terms.js';

/** nft input, line by line, with the Service each line belongs to (to name the culprit of a failure). */
export interface NftScript {
  readonly lines: readonly string[];
  /** Same length as lines; '' for lines no single Service owns. */
  readonly owners: readonly string[];
}

class ScriptBuilder {
  readonly lines: string[] = [];
  readonly owners: string[] = [];
  push(line: string, owner = ''): void {
    this.lines.push(line);
    this.owners.push(owner);
  }
}

const chainBlock = (out: ScriptBuilder, chain: NftChain, indent: string, owner = '') => {
  out.push(`${indent}chain ${chain.name} {`, owner);
  for (const line of chainBodyLines(chain)) out.push(`${indent}\t${line}`, owner);
  out.push(`${indent}}`, owner);
};

/** The whole table, declared: what `kproxy rules` prints and what a full sync loads. */
export function declareTable(model: NftTableModel, options: RenderOptions, terms: FamilyTerms): NftScript {
  const out = new ScriptBuilder();
  const byMap = new Map<string, { element: NftElement; owner: string }[]>();
  for (const owners of model.elements.values()) {
    const [owner, element] = owners.entries().next().value as [string, NftElement];
    const list = byMap.get(element.map) ?? [];
    list.push({ element, owner });
    byMap.set(element.map, list);
  }
  out.push(`table ${terms.keyword} ${KPROXY_TABLE} {`);
  for (const map of skeletonMaps(terms)) {
    const entries = byMap.get(map.name) ?? [];
    out.push(`\t${map.kind} ${map.name} {`);
    out.push(`\t\t${map.body}`);
    if (entries.length > 0) {
      out.push('\t\telements = {');
      entries.forEach(({ element, owner }, i) => {
        out.push(`\t\t\t${elementText(element)}${i < entries.length - 1 ? ',' : ''}`, owner);
      });
      out.push('\t\t}');
    }
    out.push('\t}');
  }
  const { chains, sets } = ownedObjects(model);
  for (const set of sets) out.push(`\t${set.kind} ${set.name} { ${set.body} }`);
  for (const { chain } of model.sharedChains.values()) chainBlock(out, chain, '\t');
  const ownerOf = new Map<string, string>();
  for (const fragment of model.fragments.values())
    for (const chain of fragment.chains) ownerOf.set(chain.name, fragment.owner);
  for (const chain of chains) chainBlock(out, chain, '\t', ownerOf.get(chain.name));
  for (const chain of skeletonChains(options, terms)) chainBlock(out, chain, '\t');
  out.push('}');
  return out;
}

/** A full sync: replace the table in one transaction (`add` first so `delete` never fails). */
export function replaceTableScript(
  model: NftTableModel,
  options: RenderOptions,
  terms: FamilyTerms,
): NftScript {
  const declared = declareTable(model, options, terms);
  const head = [
    `add table ${terms.keyword} ${KPROXY_TABLE}`,
    `delete table ${terms.keyword} ${KPROXY_TABLE}`,
  ];
  return { lines: [...head, ...declared.lines], owners: [...head.map(() => ''), ...declared.owners] };
}

/**
 * A partial sync: only what differs between `previous` and the staged model — new sets and
 * chains first, then element deletions and additions, then chains and sets nothing uses any more.
 */
export function transactionScript(
  previous: NftTableModel,
  staged: StagedModel,
  terms: FamilyTerms,
): NftScript {
  const next = staged.model;
  const table = `${terms.keyword} ${KPROXY_TABLE}`;
  const out = new ScriptBuilder();
  const before = ownedIndex(previous);
  const after = ownedIndex(next);
  for (const [name, { set, owner }] of after.sets) {
    if (!before.sets.has(name)) out.push(`add ${set.kind} ${table} ${name} { ${set.body} }`, owner);
  }
  for (const [name, { chain }] of next.sharedChains) {
    if (!previous.sharedChains.has(name)) writeChain(out, table, chain, 'add', '');
  }
  for (const [name, { chain, owner }] of after.chains) {
    const old = before.chains.get(name);
    if (!old) writeChain(out, table, chain, 'add', owner);
    else if (!sameChain(old.chain, chain)) writeChain(out, table, chain, 'flush', owner);
  }
  const deletions = new Map<string, { key: string; owner: string }[]>();
  const additions = new Map<string, { text: string; owner: string }[]>();
  for (const id of staged.touchedElements) {
    const old = NftTableModel.effective(previous.elements.get(id));
    const owners = next.elements.get(id);
    const now = NftTableModel.effective(owners);
    if (old && now && old.value === now.value) continue;
    const owner = owners?.keys().next().value ?? previous.elements.get(id)?.keys().next().value ?? '';
    if (old) push(deletions, old.map, { key: old.key, owner });
    if (now) push(additions, now.map, { text: elementText(now), owner });
  }
  for (const [map, list] of deletions)
    writeElements(
      out,
      `delete element ${table} ${map}`,
      list.map((e) => ({ text: e.key, owner: e.owner })),
    );
  for (const [map, list] of additions) writeElements(out, `add element ${table} ${map}`, list);
  for (const [name, { owner }] of before.chains)
    if (!after.chains.has(name)) out.push(`delete chain ${table} ${name}`, owner);
  for (const [name, { owner }] of before.sets)
    if (!after.sets.has(name)) out.push(`delete set ${table} ${name}`, owner);
  for (const name of previous.sharedChains.keys()) {
    if (!next.sharedChains.has(name)) out.push(`delete chain ${table} ${name}`);
  }
  return out;
}

function writeChain(
  out: ScriptBuilder,
  table: string,
  chain: NftChain,
  how: 'add' | 'flush',
  owner: string,
): void {
  if (how === 'add') {
    out.push(
      `add chain ${table} ${chain.name}${chain.comment ? ` { comment ${chain.comment}; }` : ''}`,
      owner,
    );
  } else {
    out.push(`flush chain ${table} ${chain.name}`, owner);
  }
  for (const rule of chain.rules) out.push(`add rule ${table} ${chain.name} ${rule}`, owner);
}

function writeElements(
  out: ScriptBuilder,
  command: string,
  list: readonly { text: string; owner: string }[],
): void {
  out.push(`${command} {`);
  list.forEach(({ text, owner }, i) => {
    out.push(`\t${text}${i < list.length - 1 ? ',' : ''}`, owner);
  });
  out.push('}');
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function ownedIndex(model: NftTableModel) {
  const chains = new Map<string, { chain: NftChain; owner: string }>();
  const sets = new Map<string, { set: { kind: string; name: string; body: string }; owner: string }>();
  for (const fragment of model.fragments.values()) {
    for (const chain of fragment.chains) chains.set(chain.name, { chain, owner: fragment.owner });
    for (const set of fragment.sets) sets.set(set.name, { set, owner: fragment.owner });
  }
  return { chains, sets };
}

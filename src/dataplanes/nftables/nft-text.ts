import type { RenderOptions } from '../rule-renderer.js';
import {
  chainBodyLines,
  elementText,
  type NftChain,
  type NftFragment,
  type NftSetDeclaration,
  sameChain,
} from './nft-fragment.js';
import { skeletonChains, skeletonMaps } from './nft-skeleton.js';
import type { StagedChange } from './nft-table-model.js';
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

/**
 * The whole table, declared from every Service's fragment: what `kproxy rules` prints and what a
 * full sync loads. Built from the fragments rather than a model, so a full sync can hand it to
 * nft first and index the model while nft works. Shared set elements (hairpin pairs) are written
 * once; two Services claiming one map key make nft fail on the second, which is then blamed.
 */
export function declareTable(
  fragments: Iterable<NftFragment>,
  options: RenderOptions,
  terms: FamilyTerms,
): NftScript {
  const out = new ScriptBuilder();
  const byMap = new Map<string, { texts: string[]; owners: string[]; seen?: Set<string> }>();
  const sets = new Map<string, { set: NftSetDeclaration; owner: string }>();
  const chains: { chain: NftChain; owner: string }[] = [];
  const shared = new Map<string, NftChain>();
  for (const fragment of fragments) {
    for (const element of fragment.elements) {
      let list = byMap.get(element.map);
      if (!list) {
        list = { texts: [], owners: [], seen: element.value === undefined ? new Set() : undefined };
        byMap.set(element.map, list);
      }
      if (list.seen) {
        if (list.seen.has(element.key)) continue;
        list.seen.add(element.key);
      }
      list.texts.push(elementText(element));
      list.owners.push(fragment.owner);
    }
    for (const set of fragment.sets) sets.set(set.name, { set, owner: fragment.owner });
    for (const chain of fragment.chains) chains.push({ chain, owner: fragment.owner });
    for (const chain of fragment.sharedChains) shared.set(chain.name, chain);
  }
  out.push(`table ${terms.keyword} ${KPROXY_TABLE} {`);
  for (const map of skeletonMaps(terms)) {
    const entries = byMap.get(map.name);
    out.push(`\t${map.kind} ${map.name} {`);
    out.push(`\t\t${map.body}`);
    if (entries && entries.texts.length > 0) {
      out.push('\t\telements = {');
      const last = entries.texts.length - 1;
      entries.texts.forEach((text, i) => {
        out.push(i < last ? `\t\t\t${text},` : `\t\t\t${text}`, entries.owners[i]);
      });
      out.push('\t\t}');
    }
    out.push('\t}');
  }
  for (const [name, { set, owner }] of sets) out.push(`\t${set.kind} ${name} { ${set.body} }`, owner);
  for (const chain of shared.values()) chainBlock(out, chain, '\t');
  for (const { chain, owner } of chains) chainBlock(out, chain, '\t', owner);
  for (const chain of skeletonChains(options, terms)) chainBlock(out, chain, '\t');
  out.push('}');
  return out;
}

/** A full sync: replace the table in one transaction (`add` first so `delete` never fails). */
export function replaceTableScript(
  fragments: Iterable<NftFragment>,
  options: RenderOptions,
  terms: FamilyTerms,
): NftScript {
  const declared = declareTable(fragments, options, terms);
  const head = [
    `add table ${terms.keyword} ${KPROXY_TABLE}`,
    `delete table ${terms.keyword} ${KPROXY_TABLE}`,
  ];
  return { lines: [...head, ...declared.lines], owners: [...head.map(() => ''), ...declared.owners] };
}

/**
 * A partial sync: only what differs between the model and the staged change — new sets and
 * chains first, then element deletions and additions, then chains and sets nothing uses any more.
 */
export function transactionScript(change: StagedChange, terms: FamilyTerms): NftScript {
  const previous = change.base;
  const table = `${terms.keyword} ${KPROXY_TABLE}`;
  const out = new ScriptBuilder();
  const before = ownedIndex(
    [...change.fragments.keys()].flatMap((owner) => previous.fragments.get(owner) ?? []),
  );
  const after = ownedIndex([...change.fragments.values()].flatMap((fragment) => fragment ?? []));
  for (const [name, { set, owner }] of after.sets) {
    if (!before.sets.has(name)) out.push(`add ${set.kind} ${table} ${name} { ${set.body} }`, owner);
  }
  // Every new chain exists before any rule is written, so rules may jump to chains added later.
  const written: { chain: NftChain; owner: string; how: 'add' | 'flush' }[] = [];
  for (const [name, { chain }] of change.sharedChains) {
    if (!previous.sharedChains.has(name)) written.push({ chain, owner: '', how: 'add' });
  }
  for (const [name, { chain, owner }] of after.chains) {
    const old = before.chains.get(name);
    if (!old) written.push({ chain, owner, how: 'add' });
    else if (!sameChain(old.chain, chain)) written.push({ chain, owner, how: 'flush' });
  }
  for (const { chain, owner, how } of written) {
    const comment = chain.comment ? ` { comment ${chain.comment}; }` : '';
    out.push(
      how === 'add' ? `add chain ${table} ${chain.name}${comment}` : `flush chain ${table} ${chain.name}`,
      owner,
    );
  }
  for (const { chain, owner } of written) {
    for (const rule of chain.rules) out.push(`add rule ${table} ${chain.name} ${rule}`, owner);
  }
  const deletions = new Map<string, { text: string; owner: string }[]>();
  const additions = new Map<string, { text: string; owner: string }[]>();
  for (const [id, next] of change.elements) {
    const old = previous.elements.get(id);
    if (old && next && old.element.value === next.element.value) continue;
    const owner = next?.owners[0] ?? old?.owners[0] ?? '';
    if (old) push(deletions, old.element.map, { text: old.element.key, owner });
    if (next) push(additions, next.element.map, { text: elementText(next.element), owner });
  }
  for (const [map, list] of deletions) writeElements(out, `delete element ${table} ${map}`, list);
  for (const [map, list] of additions) writeElements(out, `add element ${table} ${map}`, list);
  // Chains may jump to one another (a short-circuit chain to an affinity chain): empty them all
  // before deleting any.
  const gone = [...before.chains].filter(([name]) => !after.chains.has(name));
  for (const [name, { owner }] of gone) out.push(`flush chain ${table} ${name}`, owner);
  for (const [name, { owner }] of gone) out.push(`delete chain ${table} ${name}`, owner);
  for (const [name, { owner }] of before.sets) {
    if (!after.sets.has(name)) out.push(`delete set ${table} ${name}`, owner);
  }
  for (const name of previous.sharedChains.keys()) {
    if (!change.sharedChains.has(name)) out.push(`delete chain ${table} ${name}`);
  }
  return out;
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

/** The chains and sets some fragments own, by name. */
function ownedIndex(fragments: Iterable<NftFragment>) {
  const chains = new Map<string, { chain: NftChain; owner: string }>();
  const sets = new Map<string, { set: NftSetDeclaration; owner: string }>();
  for (const fragment of fragments) {
    for (const chain of fragment.chains) chains.set(chain.name, { chain, owner: fragment.owner });
    for (const set of fragment.sets) sets.set(set.name, { set, owner: fragment.owner });
  }
  return { chains, sets };
}

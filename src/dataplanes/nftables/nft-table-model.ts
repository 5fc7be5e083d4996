import {
  elementId,
  type NftChain,
  type NftElement,
  type NftFragment,
  type NftSetDeclaration,
  sameChain,
} from './nft-fragment.js';

/** An element together with every Service that needs it (hairpin pairs may be shared). */
type ElementOwners = Map<string, NftElement>;

/**
 * What kproxy's table holds, Service by Service: the applied fragments, the elements with their
 * owners, the shared chains with theirs. `stage` computes the next model without touching this
 * one, so a failed apply simply keeps it.
 */
export class NftTableModel {
  constructor(
    readonly fragments: ReadonlyMap<string, NftFragment> = new Map(),
    readonly elements: ReadonlyMap<string, ElementOwners> = new Map(),
    readonly sharedChains: ReadonlyMap<string, { chain: NftChain; owners: ReadonlySet<string> }> = new Map(),
  ) {}

  /** The element the kernel holds for an id: the first owner's. */
  static effective(owners: ElementOwners | undefined): NftElement | undefined {
    return owners?.values().next().value;
  }

  /**
   * Applies `updates` (a fragment, or undefined to remove the Service). A Service whose frontend
   * another Service already holds with a different verdict is refused and keeps its old fragment.
   */
  stage(updates: ReadonlyMap<string, NftFragment | undefined>): StagedModel {
    const elements = new Map(this.elements);
    const touched = new Set<string>();
    const owners = (id: string): ElementOwners => {
      if (!touched.has(id)) {
        touched.add(id);
        elements.set(id, new Map(this.elements.get(id)));
      }
      return elements.get(id) as ElementOwners;
    };
    const fragments = new Map(this.fragments);
    const conflicts = new Map<string, Error>();
    for (const [owner, next] of updates) {
      const previous = this.fragments.get(owner);
      for (const element of previous?.elements ?? []) owners(elementId(element)).delete(owner);
      const conflict = next ? findConflict(next, owner, owners) : undefined;
      const kept = conflict ? previous : next;
      if (conflict) conflicts.set(owner, conflict);
      for (const element of kept?.elements ?? []) owners(elementId(element)).set(owner, element);
      if (kept) fragments.set(owner, kept);
      else fragments.delete(owner);
    }
    for (const id of touched) if (elements.get(id)?.size === 0) elements.delete(id);
    const model = new NftTableModel(fragments, elements, shareChains(fragments, this.sharedChains, updates));
    return { model, touchedElements: touched, conflicts };
  }
}

export interface StagedModel {
  readonly model: NftTableModel;
  readonly touchedElements: ReadonlySet<string>;
  /** Services refused, and why. */
  readonly conflicts: ReadonlyMap<string, Error>;
}

function findConflict(
  fragment: NftFragment,
  owner: string,
  owners: (id: string) => ElementOwners,
): Error | undefined {
  for (const element of fragment.elements) {
    for (const [other, held] of owners(elementId(element))) {
      if (other !== owner && held.value !== element.value) {
        return new Error(`${element.map} element ${element.key} is already programmed for ${other}`);
      }
    }
  }
  return undefined;
}

function shareChains(
  fragments: ReadonlyMap<string, NftFragment>,
  previous: NftTableModel['sharedChains'],
  updates: ReadonlyMap<string, NftFragment | undefined>,
): NftTableModel['sharedChains'] {
  const next = new Map<string, { chain: NftChain; owners: Set<string> }>();
  for (const [name, entry] of previous) next.set(name, { chain: entry.chain, owners: new Set(entry.owners) });
  for (const owner of updates.keys()) for (const entry of next.values()) entry.owners.delete(owner);
  for (const owner of updates.keys()) {
    for (const chain of fragments.get(owner)?.sharedChains ?? []) {
      const entry = next.get(chain.name) ?? { chain, owners: new Set<string>() };
      entry.owners.add(owner);
      next.set(chain.name, entry);
    }
  }
  for (const [name, entry] of next) if (entry.owners.size === 0) next.delete(name);
  return next;
}

/** Every owned chain and set of a model, by name. */
export function ownedObjects(model: NftTableModel): { chains: NftChain[]; sets: NftSetDeclaration[] } {
  const chains: NftChain[] = [];
  const sets = new Map<string, NftSetDeclaration>();
  for (const fragment of model.fragments.values()) {
    chains.push(...fragment.chains);
    for (const set of fragment.sets) sets.set(set.name, set);
  }
  return { chains, sets: [...sets.values()] };
}

export { sameChain };

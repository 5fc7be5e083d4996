import { elementId, type NftChain, type NftElement, type NftFragment } from './nft-fragment.js';

/** An element and every Service that needs it (hairpin pairs may be shared); all agree on its value. */
export interface ElementEntry {
  readonly element: NftElement;
  readonly owners: readonly string[];
}

export interface SharedChainEntry {
  readonly chain: NftChain;
  readonly owners: ReadonlySet<string>;
}

/**
 * What kproxy's table holds, Service by Service. `stage` computes a change as an overlay without
 * touching the model; `commit` folds it in once nft accepted it, so a failed apply keeps the
 * model equal to the kernel. Only the changed Services' entries are ever copied.
 */
export class NftTableModel {
  readonly fragments = new Map<string, NftFragment>();
  readonly elements = new Map<string, ElementEntry>();
  readonly sharedChains = new Map<string, SharedChainEntry>();

  /** Fragments of a full sync whose elements are not indexed yet (see `index`). */
  private unindexed: NftFragment[] = [];

  /**
   * The model of a table nft just loaded whole from these fragments. Indexing 10^5 elements costs
   * about as much as rendering them, and only partial syncs need the index, so it is built on
   * first use (or when the caller finds a quiet moment), not before the rules reach the kernel.
   * nft has already refused any key two Services claim with different values.
   */
  static fromFragments(fragments: readonly NftFragment[]): NftTableModel {
    const model = new NftTableModel();
    for (const fragment of fragments) model.fragments.set(fragment.owner, fragment);
    model.unindexed = [...fragments];
    return model;
  }

  /** Builds the element and shared-chain index of a model made by `fromFragments`. */
  index(): void {
    if (this.unindexed.length === 0) return;
    for (const fragment of this.unindexed) {
      // One owners array per fragment, shared by its elements: fewer allocations.
      const solo = [fragment.owner];
      for (const element of fragment.elements) {
        const id = elementId(element);
        const entry = this.elements.get(id);
        this.elements.set(
          id,
          entry
            ? { element: entry.element, owners: [...entry.owners, fragment.owner] }
            : { element, owners: solo },
        );
      }
    }
    this.unindexed = [];
    this.commitSharedChains(this.nextSharedChains(this.fragments));
  }

  stage(updates: ReadonlyMap<string, NftFragment | undefined>): StagedChange {
    this.index();
    const elements = new Map<string, ElementEntry | undefined>();
    const current = (id: string) => (elements.has(id) ? elements.get(id) : this.elements.get(id));
    const fragments = new Map<string, NftFragment | undefined>();
    const conflicts = new Map<string, Error>();
    for (const [owner, next] of updates) {
      const previous = this.fragments.get(owner);
      for (const element of previous?.elements ?? []) {
        const id = elementId(element);
        const entry = current(id);
        const owners = entry?.owners.filter((o) => o !== owner) ?? [];
        elements.set(id, entry && owners.length > 0 ? { element: entry.element, owners } : undefined);
      }
      const conflict = next ? findConflict(next, current) : undefined;
      if (conflict) conflicts.set(owner, conflict);
      const kept = conflict ? previous : next;
      for (const element of kept?.elements ?? []) {
        const id = elementId(element);
        const entry = current(id);
        elements.set(
          id,
          entry ? { element: entry.element, owners: [...entry.owners, owner] } : { element, owners: [owner] },
        );
      }
      fragments.set(owner, kept);
    }
    return { base: this, fragments, elements, sharedChains: this.nextSharedChains(fragments), conflicts };
  }

  commit(change: StagedChange): void {
    this.index();
    for (const [owner, fragment] of change.fragments) {
      if (fragment) this.fragments.set(owner, fragment);
      else this.fragments.delete(owner);
    }
    for (const [id, entry] of change.elements) {
      if (entry) this.elements.set(id, entry);
      else this.elements.delete(id);
    }
    this.commitSharedChains(change.sharedChains);
  }

  private commitSharedChains(next: ReadonlyMap<string, SharedChainEntry>): void {
    this.sharedChains.clear();
    for (const [name, entry] of next) this.sharedChains.set(name, entry);
  }

  private nextSharedChains(
    fragments: ReadonlyMap<string, NftFragment | undefined>,
  ): Map<string, SharedChainEntry> {
    const next = new Map<string, { chain: NftChain; owners: Set<string> }>();
    for (const [name, entry] of this.sharedChains) {
      const owners = new Set([...entry.owners].filter((owner) => !fragments.has(owner)));
      next.set(name, { chain: entry.chain, owners });
    }
    for (const [owner, fragment] of fragments) {
      for (const chain of fragment?.sharedChains ?? []) {
        const entry = next.get(chain.name) ?? { chain, owners: new Set<string>() };
        entry.owners.add(owner);
        next.set(chain.name, entry);
      }
    }
    for (const [name, entry] of next) if (entry.owners.size === 0) next.delete(name);
    return next;
  }
}

/** A change computed against a model: the updated Services' fragments and the elements they touch. */
export interface StagedChange {
  readonly base: NftTableModel;
  /** The fragment each updated Service ends with (undefined: removed). */
  readonly fragments: ReadonlyMap<string, NftFragment | undefined>;
  /** Every element id the change touches, with its entry afterwards (undefined: gone). */
  readonly elements: ReadonlyMap<string, ElementEntry | undefined>;
  readonly sharedChains: ReadonlyMap<string, SharedChainEntry>;
  /** Services refused (a frontend another Service holds with another value), and why. */
  readonly conflicts: ReadonlyMap<string, Error>;
}

function findConflict(
  fragment: NftFragment,
  current: (id: string) => ElementEntry | undefined,
): Error | undefined {
  for (const element of fragment.elements) {
    const entry = current(elementId(element));
    if (entry && entry.element.value !== element.value) {
      return new Error(`${element.map} element ${element.key} is already programmed for ${entry.owners[0]}`);
    }
  }
  return undefined;
}

/**
 * What one service port contributes to kproxy's nft table. The table is flat: a few fixed maps
 * and sets hold per-Service elements, and only Services that need per-Service logic (affinity,
 * source ranges, an IPVS scheduler) own chains. A partial sync compares a Service's old and new
 * fragment and emits only the difference.
 */

/** One element of a fixed map or set; `value` is absent for sets. */
export interface NftElement {
  readonly map: string;
  readonly key: string;
  readonly value?: string;
  /** Already quoted by safeComment. */
  readonly comment?: string;
}

export interface NftChain {
  readonly name: string;
  readonly comment?: string;
  readonly rules: readonly string[];
}

/** A named set or map a Service owns (affinity sets), with its declaration body. */
export interface NftSetDeclaration {
  readonly kind: 'set' | 'map';
  readonly name: string;
  readonly body: string;
}

export interface NftFragment {
  /** The service port id owning everything below. */
  readonly owner: string;
  readonly elements: readonly NftElement[];
  /** Chains only this Service uses. */
  readonly chains: readonly NftChain[];
  /** Chains several Services share (the pick chains); they live while any Service needs them. */
  readonly sharedChains: readonly NftChain[];
  readonly sets: readonly NftSetDeclaration[];
}

/** The identity of an element inside its map (a map holds one value per key). */
export function elementId(element: Pick<NftElement, 'map' | 'key'>): string {
  return `${element.map}\u0000${element.key}`;
}

export function elementText(element: NftElement): string {
  const comment = element.comment ? ` comment ${element.comment}` : '';
  return element.value === undefined
    ? `${element.key}${comment}`
    : `${element.key}${comment} : ${element.value}`;
}

/** The chain body as written inside `chain NAME { … }`. */
export function chainBodyLines(chain: NftChain): string[] {
  return [...(chain.comment ? [`comment ${chain.comment}`] : []), ...chain.rules];
}

export function sameChain(a: NftChain, b: NftChain): boolean {
  return (
    a.comment === b.comment && a.rules.length === b.rules.length && a.rules.every((r, i) => r === b.rules[i])
  );
}

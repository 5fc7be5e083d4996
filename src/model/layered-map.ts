/**
 * An immutable map made of a shared base and a small set of changes on top: a new snapshot of
 * 10,000 service ports after one change costs one entry, not a copy of all 10,000. Neither layer
 * is ever modified after the map is made.
 */
export class LayeredMap<K, V> implements ReadonlyMap<K, V> {
  readonly size: number;

  /** @param changes new values, or undefined for keys removed from `base`. */
  constructor(
    private readonly base: ReadonlyMap<K, V>,
    private readonly changes: ReadonlyMap<K, V | undefined>,
  ) {
    let size = base.size;
    for (const [key, value] of changes) {
      const inBase = base.has(key);
      if (value === undefined && inBase) size--;
      else if (value !== undefined && !inBase) size++;
    }
    this.size = size;
  }

  get(key: K): V | undefined {
    return this.changes.has(key) ? this.changes.get(key) : this.base.get(key);
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  *entries(): MapIterator<[K, V]> {
    for (const [key, value] of this.base) {
      if (!this.changes.has(key)) yield [key, value];
    }
    for (const [key, value] of this.changes) {
      if (value !== undefined) yield [key, value];
    }
  }

  *keys(): MapIterator<K> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): MapIterator<V> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callback: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [key, value] of this.entries()) callback.call(thisArg, value, key, this);
  }
}

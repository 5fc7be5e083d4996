/**
 * An exact, incrementally kept answer to the kernel's linear scans (ip_vs_lc, wlc, sed, nq, fo,
 * ovf): "the first destination in list order whose load is least". A tournament tree over the
 * list: each leaf holds its destination's load as a fraction num/den (or nothing when the
 * destination may not be picked), each inner node the better of its two children, the left one
 * on a tie. The root is then the scan's answer: the least load, and among equals the first —
 * the kernel only replaces its candidate when another is strictly better. Fractions compare by
 * cross-multiplication, as the kernel does (h1·w2 > h2·w1), so the order is exact.
 *
 * A counter change re-plays one leaf-to-root path: O(log n) instead of the scan's O(n) per pick.
 */
import { watchDestination } from './destination-watch.js';
import type { Destination, Scheduler } from './scheduler.js';

/** A load as the fraction num/den, den > 0. */
export interface Load {
  num: number;
  den: number;
}

/** Writes a destination's load into `out`; false when the destination may not take the connection. */
export type LoadOf = (destination: Destination, out: Load) => boolean;

export class LoadIndex<D extends Destination> {
  private destinations: readonly D[] = [];
  private leaves = 1;
  private winners = new Int32Array(2).fill(-1);
  private num = new Float64Array(1);
  private den = new Float64Array(1);
  private unwatchAll: (() => void)[] = [];
  private readonly load: Load = { num: 0, den: 1 };

  constructor(private readonly loadOf: LoadOf) {}

  /** Indexes a new destination list, watching each destination's counters. */
  reset(destinations: readonly D[]): void {
    for (const unwatch of this.unwatchAll) unwatch();
    this.destinations = destinations;
    this.leaves = 1;
    while (this.leaves < destinations.length) this.leaves *= 2;
    this.winners = new Int32Array(2 * this.leaves).fill(-1);
    this.num = new Float64Array(destinations.length);
    this.den = new Float64Array(destinations.length);
    destinations.forEach((destination, i) => {
      this.setLeaf(i, destination);
    });
    for (let node = this.leaves - 1; node >= 1; node--) this.playMatch(node);
    this.unwatchAll = destinations.map((destination, i) =>
      watchDestination(destination, () => this.refresh(i)),
    );
  }

  /** The scan's pick: least load, first in list order among equals. */
  least(): D | undefined {
    const winner = this.winners[1] ?? -1;
    return winner >= 0 ? this.destinations[winner] : undefined;
  }

  /** Destination `index` changed: replay its path to the root. */
  refresh(index: number): void {
    const destination = this.destinations[index];
    if (!destination) return;
    this.setLeaf(index, destination);
    for (let node = (this.leaves + index) >> 1; node >= 1; node >>= 1) this.playMatch(node);
  }

  private setLeaf(index: number, destination: D): void {
    const pickable = this.loadOf(destination, this.load);
    this.num[index] = this.load.num;
    this.den[index] = this.load.den;
    this.winners[this.leaves + index] = pickable ? index : -1;
  }

  private playMatch(node: number): void {
    const left = this.winners[2 * node] as number;
    const right = this.winners[2 * node + 1] as number;
    this.winners[node] = right < 0 || (left >= 0 && !this.lighter(right, left)) ? left : right;
  }

  /** Whether destination a's load is strictly below b's: a.num/a.den < b.num/b.den. */
  private lighter(a: number, b: number): boolean {
    return (
      (this.num[a] as number) * (this.den[b] as number) < (this.num[b] as number) * (this.den[a] as number)
    );
  }
}

/** A scheduler whose pick is the least load by `loadOf` (lc, wlc, sed, nq, fo, ovf). */
export function createIndexedScheduler<D extends Destination>(name: string, loadOf: LoadOf): Scheduler<D> {
  const index = new LoadIndex<D>(loadOf);
  return {
    name,
    update(destinations) {
      index.reset(destinations);
    },
    pick() {
      return index.least();
    },
  };
}

/**
 * "The first destination in list order whose load is least" — the scan at the heart of ip_vs_lc,
 * wlc, sed, nq, fo and ovf — found two ways, with the same answer:
 * - LoadScan walks the list per pick, as the kernel does (O(n)), and needs nothing else;
 * - LoadIndex keeps the answer current when the connection table reports its counter changes
 *   (connection-counters.ts): a tournament tree over the list, each leaf holding its
 *   destination's load as a fraction num/den (or nothing when it may not be picked), each inner
 *   node the better of its two children, the left one on a tie. The root is the scan's answer:
 *   the least load, the first among equals — the kernel only replaces its candidate when another
 *   is strictly lighter. A change replays one leaf-to-root path: O(log n) per change, O(1) per
 *   pick, instead of O(n) per pick.
 * Fractions compare by cross-multiplication, as the kernel does (h1·w2 > h2·w1): exact.
 */
import { watchDestination } from './connection-counters.js';
import type { Destination, Scheduler, SchedulerOptions } from './scheduler.js';

/** A load as the fraction num/den, den > 0. */
export interface Load {
  num: number;
  den: number;
}

/** Writes a destination's load into `out`; false when the destination may not take the connection. */
export type LoadOf = (destination: Destination, out: Load) => boolean;

/** What the least-load schedulers need: a new list, and the least-loaded destination of it. */
export interface LeastLoad<D extends Destination> {
  reset(destinations: readonly D[]): void;
  least(): D | undefined;
}

export class LoadIndex<D extends Destination> implements LeastLoad<D> {
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

/** The kernel's scan: the first destination whose load is strictly below every earlier one's. */
export class LoadScan<D extends Destination> implements LeastLoad<D> {
  private destinations: readonly D[] = [];
  private readonly load: Load = { num: 0, den: 1 };

  constructor(private readonly loadOf: LoadOf) {}

  reset(destinations: readonly D[]): void {
    this.destinations = destinations;
  }

  least(): D | undefined {
    let least: D | undefined;
    let leastNum = 0;
    let leastDen = 1;
    for (const destination of this.destinations) {
      if (!this.loadOf(destination, this.load)) continue;
      if (!least || this.load.num * leastDen < leastNum * this.load.den) {
        least = destination;
        leastNum = this.load.num;
        leastDen = this.load.den;
      }
    }
    return least;
  }
}

/** An index when the connection table reports counter changes, else the kernel's scan. */
export function leastLoadFinder<D extends Destination>(
  loadOf: LoadOf,
  options?: SchedulerOptions,
): LeastLoad<D> {
  return options?.countersReported ? new LoadIndex<D>(loadOf) : new LoadScan<D>(loadOf);
}

/** A scheduler whose pick is the least load by `loadOf` (lc, wlc, sed, nq, fo, ovf). */
export function createIndexedScheduler<D extends Destination>(
  name: string,
  loadOf: LoadOf,
  options?: SchedulerOptions,
): Scheduler<D> {
  const finder = leastLoadFinder<D>(loadOf, options);
  return {
    name,
    update(destinations) {
      finder.reset(destinations);
    },
    pick() {
      return finder.least();
    },
  };
}

/**
 * wrr — weighted round robin (ip_vs_wrr.c). Passes over the list with a falling current weight
 * cw: from the highest weight (less gcd − 1) down by the gcd of the weights to 1; in each pass
 * every destination whose weight is ≥ cw takes one connection, in list order. A destination of
 * weight w is thus picked w/gcd times per cycle, spread out rather than in a burst. Overloaded
 * and weight-0 destinations are passed over. The walk itself is WrrCursor in tables.ts, which
 * also gives the nftables data plane its cycle.
 *
 * Example: weights A 3, B 2, C 1 → cw 3: A; cw 2: A B; cw 1: A B C → A A B A B C, repeated.
 */
import { type Destination, isAvailable, type Scheduler, type SchedulerDescriptor } from './scheduler.js';
import { WrrCursor } from './tables.js';

export const weightedRoundRobinScheduler: SchedulerDescriptor = {
  name: 'wrr',
  summary: 'weighted round robin: endpoints in turn, each as often as its weight',
  create<D extends Destination>(): Scheduler<D> {
    let destinations: readonly D[] = [];
    let weights: number[] = [];
    const cursor = new WrrCursor(weights);
    const notOverloaded = (index: number) => !destinations[index]?.overloaded;
    return {
      name: 'wrr',
      update(next) {
        destinations = next;
        weights = next.map((destination) => destination.weight);
        cursor.reset(weights);
      },
      pick() {
        const index = cursor.next(weights, notOverloaded);
        const picked = destinations[index];
        return picked && isAvailable(picked) ? picked : undefined;
      },
    };
  },
};

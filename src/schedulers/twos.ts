/**
 * twos — power of two choices (ip_vs_twos.c; Mitzenmacher). Two destinations are drawn at
 * random, each with probability proportional to its weight, and the new connection goes to the
 * one with less overhead per weight (the first draw on a tie). Nearly as even as lc, without
 * every pick flocking to the same least-loaded endpoint when several proxies share it.
 *
 * As in the kernel, each draw is a number r in [0, Σweight] (inclusive: the first destination's
 * range is one wider) walked down the list until r − Σweight so far ≤ 0. Weight 0 and
 * overloaded destinations are skipped.
 *
 * Example: weights 1, 1, 2; draws land on A (overhead 512) and C (256/2 = 128 per weight) → C.
 */
import {
  connectionOverhead,
  type Destination,
  isAvailable,
  type Scheduler,
  type SchedulerDescriptor,
  type SchedulerOptions,
} from './scheduler.js';

export const twoChoicesScheduler: SchedulerDescriptor = {
  name: 'twos',
  summary: 'power of two choices: the lighter of two weighted random endpoints',
  create<D extends Destination>(options?: SchedulerOptions): Scheduler<D> {
    const random = options?.random ?? Math.random;
    const randomU32 = () => Math.floor(random() * 0x100000000);
    let destinations: readonly D[] = [];
    return {
      name: 'twos',
      update(next) {
        destinations = next;
      },
      pick() {
        let totalWeight = 0;
        for (const destination of destinations)
          if (isAvailable(destination)) totalWeight += destination.weight;
        if (totalWeight === 0) return undefined;
        const first = drawByWeight(destinations, randomU32() % (totalWeight + 1));
        const second = drawByWeight(destinations, randomU32() % (totalWeight + 1));
        if (!first || !second) return first ?? second;
        const lighter = second.weight * connectionOverhead(first) > first.weight * connectionOverhead(second);
        return lighter ? second : first;
      },
    };
  },
};

/** The first available destination at which r minus the weights so far drops to 0 or below. */
function drawByWeight<D extends Destination>(destinations: readonly D[], r: number): D | undefined {
  let remaining = r;
  for (const destination of destinations) {
    if (!isAvailable(destination)) continue;
    remaining -= destination.weight;
    if (remaining <= 0) return destination;
  }
  return undefined;
}

/**
 * rr — round robin (ip_vs_rr.c). Walks the destinations in order from the one after the last
 * pick, skipping those with weight 0 or overloaded.
 */
import { type Destination, isAvailable, type Scheduler, type SchedulerDescriptor } from './scheduler.js';

export const roundRobinScheduler: SchedulerDescriptor = {
  name: 'rr',
  summary: 'round robin: each new connection to the next endpoint in turn',
  create<D extends Destination>(): Scheduler<D> {
    let destinations: readonly D[] = [];
    let last = -1;
    return {
      name: 'rr',
      update(next) {
        destinations = next;
        last = -1;
      },
      pick() {
        const n = destinations.length;
        for (let step = 1; step <= n; step++) {
          const index = (last + step) % n;
          const candidate = destinations[index];
          if (candidate && isAvailable(candidate)) {
            last = index;
            return candidate;
          }
        }
        return undefined;
      },
    };
  },
};

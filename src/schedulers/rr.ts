/**
 * rr — round robin (ip_vs_rr.c). Walks the destination list on from the last pick, wrapping
 * round, and takes the first one that is neither weight 0 nor overloaded. When the backend set
 * changes, the walk goes on from the last pick if it is still there; if it was removed, from the
 * destination before it (as the kernel moves its list cursor back on del_dest), so one update
 * does not send the next connection back to the first endpoint.
 *
 * Example: A B C with B at weight 0 → A C A C …
 */
import { type Destination, isAvailable, type Scheduler, type SchedulerDescriptor } from './scheduler.js';

export const roundRobinScheduler: SchedulerDescriptor = {
  name: 'rr',
  summary: 'round robin: each new connection to the next endpoint in turn',
  create<D extends Destination>(): Scheduler<D> {
    let destinations: readonly D[] = [];
    /** Index of the last pick; -1 = the list head (nothing picked yet). */
    let last = -1;
    return {
      name: 'rr',
      update(next) {
        last = cursorAfterUpdate(destinations, next, last);
        destinations = next;
      },
      pick() {
        const n = destinations.length;
        for (let step = 1; step <= n; step++) {
          const index = (last + step) % n;
          const candidate = destinations[index] as D;
          if (isAvailable(candidate)) {
            last = index;
            return candidate;
          }
        }
        return undefined;
      },
    };
  },
};

/** Where the cursor stands in `next`: on the last pick, or on the nearest earlier survivor, or the head. */
function cursorAfterUpdate<D>(previous: readonly D[], next: readonly D[], last: number): number {
  const position = new Map(next.map((destination, index) => [destination, index]));
  for (let i = last; i >= 0; i--) {
    const at = position.get(previous[i] as D);
    if (at !== undefined) return at;
  }
  return -1;
}

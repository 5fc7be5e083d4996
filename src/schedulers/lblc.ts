/**
 * lblc — locality-based least connection (ip_vs_lblc.c). Keyed by the address the client
 * connected to (the service IP): the first connection to an address goes to the weighted
 * least-connection destination (wlc's pick), which is remembered for that address; later ones
 * go to the remembered destination while it has weight > 0 and is not "overloaded" in lblc's
 * sense: more active connections than its weight while some other destination is below half
 * of its own. Then the address is re-assigned by wlc. Unused addresses are forgotten after the
 * expiration time (LocalityCache). Meant for cache clusters: one address, one warm cache.
 *
 * Example: weights 1, 1; 10.96.0.10 → A (both idle); it stays on A while A has ≤ 1 active
 * connection, or while B also has 1; once A has 2 and B none, it moves to B.
 */

import { leastLoadFinder } from './load-index.js';
import { DEFAULT_EXPIRATION_MS, LocalityCache } from './locality-cache.js';
import type { Destination, Scheduler, SchedulerDescriptor, SchedulerOptions } from './scheduler.js';
import { weightedLeastConnectionLoad } from './wlc.js';

export const localityLeastConnectionScheduler: SchedulerDescriptor = {
  name: 'lblc',
  summary:
    'locality-based least connection: one service address sticks to one endpoint until it is overloaded',
  create<D extends Destination>(options?: SchedulerOptions): Scheduler<D> {
    const cache = new LocalityCache<D>(
      options?.now ?? Date.now,
      options?.expirationMs ?? DEFAULT_EXPIRATION_MS,
    );
    const leastLoaded = leastLoadFinder<D>(weightedLeastConnectionLoad, options);
    let destinations: readonly D[] = [];
    let current = new Set<D>();
    return {
      name: 'lblc',
      update(next) {
        destinations = next;
        current = new Set(next);
        leastLoaded.reset(next);
      },
      pick(connection) {
        const cached = cache.lookup(connection.serviceIP)?.value;
        if (
          cached &&
          current.has(cached) &&
          cached.weight > 0 &&
          !isLocalityOverloaded(cached, destinations)
        ) {
          return cached;
        }
        const chosen = leastLoaded.least();
        // ip_vs_lblc_new: re-storing the same destination keeps the entry as it is.
        if (chosen && chosen !== cached) cache.store(connection.serviceIP, chosen);
        return chosen;
      },
    };
  },
};

/** lblc's is_overloaded: more active connections than weight, while another has fewer than half its weight. */
export function isLocalityOverloaded(
  destination: Destination,
  destinations: readonly Destination[],
): boolean {
  if (destination.activeConns <= destination.weight) return false;
  return destinations.some((other) => other.activeConns * 2 < other.weight);
}

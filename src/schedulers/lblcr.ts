/**
 * lblcr — locality-based least connection with replication (ip_vs_lblcr.c). Like lblc, but each
 * service address maps to a set of destinations, newest first. A connection goes to the set's
 * weighted least-connection member; when that one is "overloaded" in lblc's sense (more active
 * connections than its weight while another destination is below half of its own), wlc picks a
 * destination from the whole list and it joins the set — a hot address spreads over more
 * caches. When the set has more than one member and has not changed for the expiration time,
 * its most loaded member is dropped. Unused addresses are forgotten (LocalityCache).
 *
 * Example: weights 1, 1; 10.96.0.10 → {A}; A reaches 2 active with B idle → B joins: {B, A};
 * then the least loaded of B and A serves each connection.
 */

import { isLocalityOverloaded } from './lblc.js';
import { leastLoadFinder } from './load-index.js';
import { DEFAULT_EXPIRATION_MS, LocalityCache } from './locality-cache.js';
import {
  connectionOverhead,
  type Destination,
  isAvailable,
  type Scheduler,
  type SchedulerDescriptor,
  type SchedulerOptions,
} from './scheduler.js';
import { weightedLeastConnectionLoad } from './wlc.js';

interface DestinationSet<D> {
  /** Newest first, as list_add_rcu puts them. */
  members: D[];
  /** When a member last joined or left (ms). */
  lastModified: number;
}

export const replicatedLocalityScheduler: SchedulerDescriptor = {
  name: 'lblcr',
  summary:
    'locality-based least connection with replication: a hot service address spreads over a set of endpoints',
  create<D extends Destination>(options?: SchedulerOptions): Scheduler<D> {
    const now = options?.now ?? Date.now;
    const expirationMs = options?.expirationMs ?? DEFAULT_EXPIRATION_MS;
    const cache = new LocalityCache<DestinationSet<D>>(now, expirationMs);
    const leastLoaded = leastLoadFinder<D>(weightedLeastConnectionLoad, options);
    let destinations: readonly D[] = [];
    let current = new Set<D>();
    return {
      name: 'lblcr',
      update(next) {
        destinations = next;
        current = new Set(next);
        leastLoaded.reset(next);
      },
      pick(connection) {
        const set = cache.lookup(connection.serviceIP)?.value;
        if (!set) {
          const chosen = leastLoaded.least();
          if (chosen) cache.store(connection.serviceIP, { members: [chosen], lastModified: now() });
          return chosen;
        }
        const fromSet = leastLoadedMember(set.members, current);
        if (set.members.length > 1 && now() > set.lastModified + expirationMs) {
          const most = mostLoadedMember(set.members);
          if (most) removeMember(set, most, now());
        }
        if (fromSet && !isLocalityOverloaded(fromSet, destinations)) return fromSet;
        const chosen = leastLoaded.least();
        if (chosen && !set.members.includes(chosen)) {
          set.members.unshift(chosen);
          set.lastModified = now();
        }
        return chosen;
      },
    };
  },
};

/** ip_vs_dest_set_min: the wlc pick among the members still in the service. */
function leastLoadedMember<D extends Destination>(
  members: readonly D[],
  current: ReadonlySet<D>,
): D | undefined {
  let least: D | undefined;
  for (const member of members) {
    if (!current.has(member) || !isAvailable(member)) continue;
    if (!least || connectionOverhead(least) * member.weight > connectionOverhead(member) * least.weight)
      least = member;
  }
  return least;
}

/** ip_vs_dest_set_max: the member with the most overhead per weight (weight > 0), first among equals. */
function mostLoadedMember<D extends Destination>(members: readonly D[]): D | undefined {
  let most: D | undefined;
  for (const member of members) {
    if (member.weight <= 0) continue;
    if (!most || connectionOverhead(most) * member.weight < connectionOverhead(member) * most.weight)
      most = member;
  }
  return most;
}

function removeMember<D>(set: DestinationSet<D>, member: D, at: number): void {
  set.members.splice(set.members.indexOf(member), 1);
  set.lastModified = at;
}

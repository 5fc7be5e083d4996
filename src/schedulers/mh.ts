/**
 * mh — Maglev hashing (ip_vs_mh.c; Eisenbud et al., NSDI '16, §3.4). Each destination gets a
 * preference order over the M slots of a lookup table (M prime, default 4093), from two hashes of
 * its address and port; the destinations take turns claiming their most-preferred free slot,
 * as many per turn as their weight allows, until the table is full (maglevTable). A connection
 * goes to the slot its client address hashes to (plus the client port with `mh-port`, which
 * kube-proxy sets). Shares follow weights closely, and adding or removing one destination moves
 * few keys besides its own — steadier than sh when endpoints come and go.
 *
 * Setting a destination's weight to 0 keeps its slots (the kernel builds from last_weight, the
 * last non-zero weight) so that draining it moves no one else; its keys find no pick, or with
 * `mh-fallback` walk the table from their slot to the first available destination.
 *
 * Example: 3 equal endpoints, M = 251 → about 84 slots each; removing one hands its slots to the
 * others while most of theirs stay put.
 */

import { addressKey } from './hashing.js';
import {
  type Destination,
  hasFlag,
  isAvailable,
  type Scheduler,
  type SchedulerDescriptor,
  type SchedulerOptions,
} from './scheduler.js';
import { DEFAULT_MAGLEV_TABLE_SIZE, maglevHash1, maglevTable } from './tables.js';

export const maglevScheduler: SchedulerDescriptor = {
  name: 'mh',
  summary: 'Maglev hashing: consistent hashing of the client address, weighted',
  flags: ['mh-fallback', 'mh-port'],
  kubeProxyFlags: ['mh-port'],
  create<D extends Destination>(options?: SchedulerOptions): Scheduler<D> {
    const usePort = hasFlag(options, 'mh-port');
    const fallback = hasFlag(options, 'mh-fallback');
    const size = options?.maglevTableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
    const lastWeights = new Map<string, number>();
    let destinations: readonly D[] = [];
    let table = maglevTable([], size);
    return {
      name: 'mh',
      update(next) {
        destinations = next;
        forgetRemoved(lastWeights, next);
        table = maglevTable(
          next.map((destination) => ({ id: destination.id, weight: lastWeight(lastWeights, destination) })),
          size,
        );
      },
      pick(connection) {
        const key = (usePort ? connection.clientPort : 0) + addressKey(connection.clientIP);
        const slot = maglevSlot(key, 0, size);
        const first = destinations[table[slot] ?? -1];
        if (!first) return undefined;
        if (isAvailable(first)) return first;
        return fallback ? walkTable(table, destinations, key, slot, size) : undefined;
      },
    };
  },
};

/** The weight the table is built with: the current one, or while it is 0 the last non-zero one. */
function lastWeight(lastWeights: Map<string, number>, destination: Destination): number {
  if (destination.weight > 0) lastWeights.set(destination.id, destination.weight);
  return destination.weight > 0 ? destination.weight : (lastWeights.get(destination.id) ?? 0);
}

/** A destination that left and comes back starts afresh, as a newly added kernel destination does. */
function forgetRemoved(lastWeights: Map<string, number>, destinations: readonly Destination[]): void {
  const present = new Set(destinations.map((destination) => destination.id));
  for (const id of lastWeights.keys()) if (!present.has(id)) lastWeights.delete(id);
}

/** ip_vs_mh_hashkey(addr, port, hash1, offset) % M. */
function maglevSlot(key: number, offset: number, size: number): number {
  return maglevHash1(offset + key, size);
}

/** ip_vs_mh_get_fallback's walk: rehash with offsets ihash, ihash+1, … until an available destination. */
function walkTable<D extends Destination>(
  table: Int32Array,
  destinations: readonly D[],
  key: number,
  firstSlot: number,
  size: number,
): D | undefined {
  for (let offset = 0; offset < size; offset++) {
    const destination = destinations[table[maglevSlot(key, (offset + firstSlot) % size, size)] ?? -1];
    if (!destination) return undefined;
    if (isAvailable(destination)) return destination;
  }
  return undefined;
}

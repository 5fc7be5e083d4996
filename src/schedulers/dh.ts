/**
 * dh — destination hashing (ip_vs_dh.c). Like sh, but the bucket comes from the address the
 * client connected to (the service IP), so all clients of one frontend address reach one
 * endpoint — meant for cache clusters where a destination address should keep hitting one
 * cache. The kernel fills dh's 256 buckets with one bucket per destination in turn, ignoring
 * weights (weightedBucketTable with every weight 1); a weight-0 or overloaded destination has no
 * stand-in (dh has no fallback flag).
 *
 * Example: A B C → buckets A B C A B C …; every connection to 10.96.0.10 → the endpoint in
 * bucket hash_32(10.96.0.10, 8).
 */
import { addressKey, hash32 } from './hashing.js';
import type { Destination, Scheduler, SchedulerDescriptor } from './scheduler.js';
import { pickAvailable } from './sh.js';
import { weightedBucketTable } from './tables.js';

const TABLE_BITS = 8;

export const destinationHashScheduler: SchedulerDescriptor = {
  name: 'dh',
  summary: 'destination hashing: one frontend address always reaches the same endpoint',
  create<D extends Destination>(): Scheduler<D> {
    let destinations: readonly D[] = [];
    let table = weightedBucketTable([]);
    return {
      name: 'dh',
      update(next) {
        destinations = next;
        table = weightedBucketTable(next.map(() => 1));
      },
      pick(connection) {
        return pickAvailable(table, destinations, hash32(addressKey(connection.serviceIP), TABLE_BITS));
      },
    };
  },
};

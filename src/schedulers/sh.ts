/**
 * sh — source hashing (ip_vs_sh.c). A table of 256 buckets is filled with the destinations in
 * list order, each taking as many consecutive buckets as its weight (weightedBucketTable); a new
 * connection goes to the bucket its client IP hashes to (hash_32 of the address, plus the client
 * port with `sh-port`). One client IP therefore always lands on one endpoint — what the seed's
 * author saw with `ab` from a single machine.
 *
 * If that endpoint has weight 0 or is overloaded there is no pick, unless `sh-fallback`: then
 * the kernel walks the table from the hashed bucket (bucket = ihash + (ihash + offset) mod 256)
 * to the first available destination, the same walk for the same key every time.
 *
 * Example: weights A 2, B 1 → buckets A A B A A B … (A holds 171 of 256, B 85).
 */

import { addressKey, hash32 } from './hashing.js';
import {
  type ConnectionInfo,
  type Destination,
  hasFlag,
  isAvailable,
  type Scheduler,
  type SchedulerDescriptor,
  type SchedulerOptions,
} from './scheduler.js';
import { BUCKET_TABLE_SIZE, weightedBucketTable } from './tables.js';

const TABLE_BITS = 8;

/** ip_vs_sh_hashkey with offset 0: the bucket of a client address and (with sh-port) port. */
export function sourceHashBucket(connection: ConnectionInfo, usePort: boolean): number {
  const port = usePort ? connection.clientPort : 0;
  return hash32((port + addressKey(connection.clientIP)) >>> 0, TABLE_BITS);
}

export const sourceHashScheduler: SchedulerDescriptor = {
  name: 'sh',
  summary: 'source hashing: a client IP always reaches the same endpoint',
  flags: ['sh-fallback', 'sh-port'],
  create<D extends Destination>(options?: SchedulerOptions): Scheduler<D> {
    const usePort = hasFlag(options, 'sh-port');
    const fallback = hasFlag(options, 'sh-fallback');
    let destinations: readonly D[] = [];
    let table = weightedBucketTable([]);
    return {
      name: 'sh',
      update(next) {
        destinations = next;
        table = weightedBucketTable(next.map((destination) => destination.weight));
      },
      pick(connection) {
        const bucket = sourceHashBucket(connection, usePort);
        return fallback
          ? pickWithFallback(table, destinations, bucket)
          : pickAvailable(table, destinations, bucket);
      },
    };
  },
};

/** The bucket's destination if it may take a connection (also dh's pick). */
export function pickAvailable<D extends Destination>(
  table: Int32Array,
  destinations: readonly D[],
  bucket: number,
): D | undefined {
  const destination = destinations[table[bucket] ?? -1];
  return destination && isAvailable(destination) ? destination : undefined;
}

/** ip_vs_sh_get_fallback: the hashed bucket, else the kernel's deterministic walk round the table. */
function pickWithFallback<D extends Destination>(
  table: Int32Array,
  destinations: readonly D[],
  bucket: number,
): D | undefined {
  const first = destinations[table[bucket] ?? -1];
  if (!first) return undefined;
  if (isAvailable(first)) return first;
  for (let offset = 0; offset < BUCKET_TABLE_SIZE; offset++) {
    const walked = (bucket + ((offset + bucket) % BUCKET_TABLE_SIZE)) & (BUCKET_TABLE_SIZE - 1);
    const destination = destinations[table[walked] ?? -1];
    if (!destination) return undefined;
    if (isAvailable(destination)) return destination;
  }
  return undefined;
}

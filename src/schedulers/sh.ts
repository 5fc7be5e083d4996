/**
 * sh — source hashing (ip_vs_sh.c). A table of 256 buckets is filled with the destinations in
 * order, each taking as many consecutive buckets as its weight; a new connection goes to the
 * bucket its client IP hashes to. One client IP therefore always lands on one endpoint — what
 * the seed's author saw with a single client.
 */
import { ipv4ToNumber } from '../model/ip.js';
import { type Destination, isAvailable, type Scheduler, type SchedulerDescriptor } from './scheduler.js';

const TABLE_BITS = 8;
const TABLE_SIZE = 1 << TABLE_BITS;
const GOLDEN_RATIO_32 = 0x61c88647;

/** The kernel's hash_32(): multiply by the golden ratio, keep the top `bits` bits. */
export function hash32(value: number, bits: number): number {
  return Math.imul(value, GOLDEN_RATIO_32) >>> (32 - bits);
}

export const sourceHashScheduler: SchedulerDescriptor = {
  name: 'sh',
  summary: 'source hashing: a client IP always reaches the same endpoint',
  create<D extends Destination>(): Scheduler<D> {
    const buckets: (D | undefined)[] = new Array(TABLE_SIZE).fill(undefined);
    return {
      name: 'sh',
      update(destinations) {
        let index = 0;
        let filled = 0;
        for (let bucket = 0; bucket < TABLE_SIZE; bucket++) {
          const destination = destinations.length > 0 ? destinations[index % destinations.length] : undefined;
          buckets[bucket] = destination;
          if (destination && ++filled >= Math.max(destination.weight, 1)) {
            index++;
            filled = 0;
          }
        }
      },
      pick(connection) {
        const destination = buckets[hash32(ipv4ToNumber(connection.clientIP), TABLE_BITS)];
        return destination && isAvailable(destination) ? destination : undefined;
      },
    };
  },
};

/**
 * lc — least connection (ip_vs_lc.c). The new connection goes to the destination with the least
 * overhead, (active << 8) + inactive: an established connection weighs 256 closing ones. Weights
 * count only as "0 = none"; overloaded destinations are skipped; the first in list order wins a
 * tie. What the seed's author wished for: long-lived connections no longer pile up on one pod.
 *
 * Example: active/inactive A 2/0, B 1/300, C 1/10 → overheads 512, 556, 266 → C.
 */
import { createIndexedScheduler, type LoadOf } from './load-index.js';
import {
  connectionOverhead,
  type Destination,
  isAvailable,
  type SchedulerDescriptor,
  type SchedulerOptions,
} from './scheduler.js';

export const leastConnectionLoad: LoadOf = (destination, out) => {
  out.num = connectionOverhead(destination);
  out.den = 1;
  return isAvailable(destination);
};

export const leastConnectionScheduler: SchedulerDescriptor = {
  name: 'lc',
  summary: 'least connection: the endpoint with the fewest active connections',
  create: <D extends Destination>(options?: SchedulerOptions) =>
    createIndexedScheduler<D>('lc', leastConnectionLoad, options),
};

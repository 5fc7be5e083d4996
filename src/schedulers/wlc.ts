/**
 * wlc — weighted least connection (ip_vs_wlc.c), the kernel's default scheduler. The new
 * connection goes to the destination with the least overhead / weight, where overhead =
 * (active << 8) + inactive. The kernel compares h1·w2 > h2·w1 instead of dividing; so do we.
 * Weight 0 and overloaded destinations are skipped; the first in list order wins a tie.
 *
 * Example: weights A 1, B 3; active A 1, B 2 → 256/1 vs 512/3 ≈ 171 → B.
 */
import { createIndexedScheduler, type LoadOf } from './load-index.js';
import {
  connectionOverhead,
  type Destination,
  isAvailable,
  type SchedulerDescriptor,
  type SchedulerOptions,
} from './scheduler.js';

export const weightedLeastConnectionLoad: LoadOf = (destination, out) => {
  out.num = connectionOverhead(destination);
  out.den = destination.weight;
  return isAvailable(destination);
};

export const weightedLeastConnectionScheduler: SchedulerDescriptor = {
  name: 'wlc',
  summary: 'weighted least connection: fewest connections per unit of weight',
  create: <D extends Destination>(options?: SchedulerOptions) =>
    createIndexedScheduler<D>('wlc', weightedLeastConnectionLoad, options),
};

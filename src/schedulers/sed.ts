/**
 * sed — shortest expected delay (ip_vs_sed.c). The new connection goes to the destination with
 * the least (active + 1) / weight: the delay it would see if served after everyone already
 * there. Only active connections count. Compared by cross-multiplication; weight 0 and
 * overloaded destinations are skipped; the first in list order wins a tie.
 *
 * Example: weights A 1, B 3; both idle → 1/1 vs 1/3 → B; B keeps winning until it holds 3
 * (4/3 > 1/1), then A and B alternate by that ratio.
 */
import { createIndexedScheduler, type LoadOf } from './load-index.js';
import {
  type Destination,
  isAvailable,
  type SchedulerDescriptor,
  type SchedulerOptions,
} from './scheduler.js';

export const shortestExpectedDelayLoad: LoadOf = (destination, out) => {
  out.num = destination.activeConns + 1;
  out.den = destination.weight;
  return isAvailable(destination);
};

export const shortestExpectedDelayScheduler: SchedulerDescriptor = {
  name: 'sed',
  summary: 'shortest expected delay: least (active + 1) / weight',
  create: <D extends Destination>(options?: SchedulerOptions) =>
    createIndexedScheduler<D>('sed', shortestExpectedDelayLoad, options),
};

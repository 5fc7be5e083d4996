/**
 * ovf — overflow connection (ip_vs_ovf.c). New connections go to the highest-weight destination
 * (the first in list order among equals) as long as its active connections do not exceed its
 * weight; past that they overflow to the next-highest weight, and so on. Weight works as a
 * connection limit; only active connections count (so it suits TCP better than UDP).
 *
 * Example: weights A 2, B 1 → A A A (active 0, 1, 2 ≤ 2), then B B, then none.
 */
import { createIndexedScheduler, type LoadOf } from './load-index.js';
import {
  type Destination,
  isAvailable,
  type SchedulerDescriptor,
  type SchedulerOptions,
} from './scheduler.js';

const overflowLoad: LoadOf = (destination, out) => {
  out.num = -destination.weight;
  out.den = 1;
  return isAvailable(destination) && destination.activeConns <= destination.weight;
};

export const overflowScheduler: SchedulerDescriptor = {
  name: 'ovf',
  summary: 'overflow: the highest-weight endpoint until its active connections exceed its weight',
  create: <D extends Destination>(options?: SchedulerOptions) =>
    createIndexedScheduler<D>('ovf', overflowLoad, options),
};

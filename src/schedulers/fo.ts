/**
 * fo — weighted failover (ip_vs_fo.c). Every new connection goes to the available destination
 * with the highest weight (the first in list order among equals); the others only take over when
 * it is overloaded or its weight drops to 0.
 *
 * Example: weights A 10, B 5, C 10 → always A; A set to weight 0 → C.
 */
import { createIndexedScheduler, type LoadOf } from './load-index.js';
import {
  type Destination,
  isAvailable,
  type SchedulerDescriptor,
  type SchedulerOptions,
} from './scheduler.js';

/** The heaviest destination is the "least loaded": load = −weight. */
const failoverLoad: LoadOf = (destination, out) => {
  out.num = -destination.weight;
  out.den = 1;
  return isAvailable(destination);
};

export const failoverScheduler: SchedulerDescriptor = {
  name: 'fo',
  summary: 'weighted failover: all to the highest-weight endpoint available',
  create: <D extends Destination>(options?: SchedulerOptions) =>
    createIndexedScheduler<D>('fo', failoverLoad, options),
};

/**
 * nq — never queue (ip_vs_nq.c). An idle destination (no active connection) takes the new
 * connection at once — the first idle one in list order; when none is idle, the pick is sed's:
 * least (active + 1) / weight. Weight 0 and overloaded destinations are skipped.
 *
 * Example: weights A 1, B 3, active A 0, B 1 → A (idle), although sed would pick B (2/3 < 1/1).
 */
import { createIndexedScheduler, type LoadOf } from './load-index.js';
import {
  type Destination,
  isAvailable,
  type SchedulerDescriptor,
  type SchedulerOptions,
} from './scheduler.js';

/** An idle destination's load is 0, below every busy one's, and equal among idle ones (list order decides). */
export const neverQueueLoad: LoadOf = (destination, out) => {
  const idle = destination.activeConns === 0;
  out.num = idle ? 0 : destination.activeConns + 1;
  out.den = idle ? 1 : destination.weight;
  return isAvailable(destination);
};

export const neverQueueScheduler: SchedulerDescriptor = {
  name: 'nq',
  summary: 'never queue: an idle endpoint first, else shortest expected delay',
  create: <D extends Destination>(options?: SchedulerOptions) =>
    createIndexedScheduler<D>('nq', neverQueueLoad, options),
};

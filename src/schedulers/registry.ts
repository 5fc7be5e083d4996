import { KproxyError } from '../errors.js';
import { leastConnectionScheduler } from './lc.js';
import { randomScheduler } from './random.js';
import { roundRobinScheduler } from './rr.js';
import type { Destination, Scheduler, SchedulerDescriptor, SchedulerOptions } from './scheduler.js';
import { sourceHashScheduler } from './sh.js';

const descriptors: readonly SchedulerDescriptor[] = [
  randomScheduler,
  roundRobinScheduler,
  leastConnectionScheduler,
  sourceHashScheduler,
];

const byName = new Map(descriptors.map((descriptor) => [descriptor.name, descriptor]));

export function knownSchedulerNames(): string[] {
  return descriptors.map((descriptor) => descriptor.name);
}

export function schedulerDescriptor(name: string): SchedulerDescriptor {
  const descriptor = byName.get(name);
  if (!descriptor) {
    throw new KproxyError('KPROXY_E_UNKNOWN_SCHEDULER', `unknown IPVS scheduler "${name}"`, {
      hint: `use one of: ${knownSchedulerNames().join(', ')}`,
    });
  }
  return descriptor;
}

export function createScheduler<D extends Destination>(
  name: string,
  options?: SchedulerOptions,
): Scheduler<D> {
  return schedulerDescriptor(name).create<D>(options);
}

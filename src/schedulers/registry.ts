/**
 * The schedulers by name, as `ipvsadm -s` knows them, plus `random` (iptables and nftables
 * mode's spread). An unknown name, or a flag the scheduler does not take, is a KproxyError that
 * lists what is valid.
 */
import { KproxyError } from '../errors.js';
import { destinationHashScheduler } from './dh.js';
import { failoverScheduler } from './fo.js';
import { localityLeastConnectionScheduler } from './lblc.js';
import { replicatedLocalityScheduler } from './lblcr.js';
import { leastConnectionScheduler } from './lc.js';
import { maglevScheduler } from './mh.js';
import { neverQueueScheduler } from './nq.js';
import { overflowScheduler } from './ovf.js';
import { randomScheduler } from './random.js';
import { roundRobinScheduler } from './rr.js';
import type { Destination, Scheduler, SchedulerDescriptor, SchedulerOptions } from './scheduler.js';
import { shortestExpectedDelayScheduler } from './sed.js';
import { sourceHashScheduler } from './sh.js';
import { MAGLEV_TABLE_SIZES } from './tables.js';
import { twoChoicesScheduler } from './twos.js';
import { weightedLeastConnectionScheduler } from './wlc.js';
import { weightedRoundRobinScheduler } from './wrr.js';

const descriptors: readonly SchedulerDescriptor[] = [
  randomScheduler,
  roundRobinScheduler,
  weightedRoundRobinScheduler,
  leastConnectionScheduler,
  weightedLeastConnectionScheduler,
  shortestExpectedDelayScheduler,
  neverQueueScheduler,
  sourceHashScheduler,
  destinationHashScheduler,
  maglevScheduler,
  localityLeastConnectionScheduler,
  replicatedLocalityScheduler,
  failoverScheduler,
  overflowScheduler,
  twoChoicesScheduler,
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
  const descriptor = schedulerDescriptor(name);
  checkSchedulerOptions(descriptor, options);
  return descriptor.create<D>(options);
}

/** The flags a Service's scheduler runs with: its annotation's, else those kube-proxy sets (mh: mh-port). */
export function effectiveSchedulerFlags(scheduler: string, annotated?: readonly string[]): readonly string[] {
  return annotated ?? byName.get(scheduler)?.kubeProxyFlags ?? [];
}

/** Throws when a flag is unknown or belongs to another scheduler, or the Maglev table size is not the kernel's. */
export function checkSchedulerOptions(descriptor: SchedulerDescriptor, options: SchedulerOptions = {}): void {
  const valid = descriptor.flags ?? [];
  for (const flag of options.flags ?? []) {
    if (valid.includes(flag)) continue;
    const owner = descriptors.find((other) => other.flags?.includes(flag));
    const what = owner
      ? `belongs to the ${owner.name} scheduler, not ${descriptor.name}`
      : 'is not a scheduler flag';
    throw new KproxyError('KPROXY_E_SCHEDULER_FLAG', `scheduler flag "${flag}" ${what}`, {
      hint:
        valid.length > 0
          ? `${descriptor.name} takes: ${valid.join(', ')}`
          : `${descriptor.name} takes no flags (flags exist for: ${allFlags().join(', ')})`,
    });
  }
  const size = options.maglevTableSize;
  if (size !== undefined && !MAGLEV_TABLE_SIZES.includes(size)) {
    throw new KproxyError(
      'KPROXY_E_SCHEDULER_FLAG',
      `Maglev table size ${size} is not one the kernel offers`,
      {
        hint: `use one of: ${MAGLEV_TABLE_SIZES.join(', ')}`,
      },
    );
  }
}

function allFlags(): string[] {
  return descriptors.flatMap((descriptor) =>
    (descriptor.flags ?? []).map((flag) => `${flag} (${descriptor.name})`),
  );
}

/** Small builders shared by the scheduler tests. */
import type { ConnectionInfo, Destination, Scheduler } from '../../src/schedulers/scheduler.js';

export interface DestinationSpec {
  readonly weight?: number;
  readonly active?: number;
  readonly inactive?: number;
  readonly overloaded?: boolean;
}

/** Destinations named A, B, C … (ids 10.0.0.1:80, 10.0.0.2:80 …) from their specs. */
export function destinations(...specs: DestinationSpec[]): Destination[] {
  return specs.map((spec, i) => ({
    id: `10.0.0.${i + 1}:80`,
    weight: spec.weight ?? 1,
    activeConns: spec.active ?? 0,
    inactiveConns: spec.inactive ?? 0,
    overloaded: spec.overloaded ?? false,
  }));
}

/** `count` destinations of weight 1. */
export function evenDestinations(count: number): Destination[] {
  return destinations(...Array.from({ length: count }, () => ({})));
}

/** A, B, C … for the destination's position in the list; '-' for no pick. */
export function letterOf(list: readonly Destination[], picked: Destination | undefined): string {
  return picked ? String.fromCharCode(65 + list.indexOf(picked)) : '-';
}

export function connection(overrides: Partial<ConnectionInfo> = {}): ConnectionInfo {
  return {
    clientIP: '192.168.1.10',
    clientPort: 40000,
    serviceIP: '10.96.0.10',
    servicePort: 80,
    ...overrides,
  };
}

/** The letters of `count` picks; with `open`, each pick opens an active connection on its destination. */
export function pickLetters(
  scheduler: Scheduler,
  list: readonly Destination[],
  count: number,
  options: { open?: boolean; connection?: ConnectionInfo } = {},
): string {
  let letters = '';
  for (let i = 0; i < count; i++) {
    const picked = scheduler.pick(options.connection ?? connection({ clientPort: 40000 + i }));
    if (picked && options.open) picked.activeConns++;
    letters += letterOf(list, picked);
  }
  return letters;
}

/** A small seeded PRNG (mulberry32), so randomized tests are repeatable. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

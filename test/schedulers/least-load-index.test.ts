/**
 * lc, wlc, sed, nq, fo and ovf scan like the kernel, or keep an index when the connection table
 * reports its counter changes. These tests drive both through long random runs of opens,
 * closes, weight and overload changes and backend-set updates, and check every pick against the
 * kernel's own scan, transcribed here loop for loop from ip_vs_{lc,wlc,sed,nq,fo,ovf}.c.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  connectionClosed,
  connectionDeactivated,
  connectionOpened,
  countersChanged,
} from '../../src/schedulers/connection-counters.js';
import { createScheduler } from '../../src/schedulers/registry.js';
import type { Destination } from '../../src/schedulers/scheduler.js';
import { connection, seededRandom } from './helpers.js';

const overhead = (d: Destination) => d.activeConns * 256 + d.inactiveConns;

/** The weighted scan shared by wlc and sed: first available, then replace only when strictly lighter. */
function weightedScan(
  list: readonly Destination[],
  load: (d: Destination) => number,
): Destination | undefined {
  let least: Destination | undefined;
  let loh = 0;
  for (const d of list) {
    if (d.overloaded) continue;
    if (!least) {
      if (d.weight > 0) {
        least = d;
        loh = load(d);
      }
      continue;
    }
    const doh = load(d);
    if (loh * d.weight > doh * least.weight) {
      least = d;
      loh = doh;
    }
  }
  return least;
}

const kernelScans: Record<string, (list: readonly Destination[]) => Destination | undefined> = {
  lc(list) {
    let least: Destination | undefined;
    let loh = 0;
    for (const d of list) {
      if (d.overloaded || d.weight === 0) continue;
      const doh = overhead(d);
      if (!least || doh < loh) {
        least = d;
        loh = doh;
      }
    }
    return least;
  },
  wlc: (list) => weightedScan(list, overhead),
  sed: (list) => weightedScan(list, (d) => d.activeConns + 1),
  nq(list) {
    let least: Destination | undefined;
    let loh = 0;
    for (const d of list) {
      if (d.overloaded || d.weight === 0) continue;
      const doh = d.activeConns + 1;
      if (d.activeConns === 0) return d;
      if (!least || loh * d.weight > doh * least.weight) {
        least = d;
        loh = doh;
      }
    }
    return least;
  },
  fo(list) {
    let highest: Destination | undefined;
    let hw = 0;
    for (const d of list) {
      if (!d.overloaded && d.weight > hw) {
        highest = d;
        hw = d.weight;
      }
    }
    return highest;
  },
  ovf(list) {
    let highest: Destination | undefined;
    let hw = 0;
    for (const d of list) {
      if (d.overloaded || d.activeConns > d.weight || d.weight === 0) continue;
      if (!highest || d.weight > hw) {
        highest = d;
        hw = d.weight;
      }
    }
    return highest;
  },
};

function newDestination(id: number, random: () => number): Destination {
  return {
    id: `10.1.${id >> 8}.${id & 255}:80`,
    weight: Math.floor(random() * 4),
    activeConns: Math.floor(random() * 3),
    inactiveConns: Math.floor(random() * 300),
  };
}

/**
 * One random change of the kind a connection table and the control plane make, reported as the
 * connection table would. Returns a new list when the backend set or a weight changed.
 */
function mutate(pool: Destination[], list: Destination[], random: () => number): Destination[] | undefined {
  const target = list[Math.floor(random() * list.length)];
  const roll = random();
  if (!target || roll < 0.3) return undefined;
  if (roll < 0.45 && target.activeConns > 0) connectionDeactivated(target);
  else if (roll < 0.55 && target.activeConns > 0) connectionClosed(target, true);
  else if (roll < 0.65 && target.inactiveConns > 0) connectionClosed(target, false);
  else if (roll < 0.75) {
    target.overloaded = !target.overloaded;
    countersChanged(target);
  } else if (roll < 0.85) {
    target.weight = Math.floor(random() * 5);
    return list;
  } else if (roll < 0.9) return pool.filter(() => random() < 0.7);
  else connectionOpened(target);
  return undefined;
}

describe('the least-load index picks exactly what the kernel scan picks', () => {
  for (const [name, countersReported] of Object.keys(kernelScans).flatMap(
    (n) =>
      [
        [n, false],
        [n, true],
      ] as const,
  )) {
    it(`${name} (${countersReported ? 'index' : 'scan'}): 3000 steps on up to 40 destinations`, () => {
      const random = seededRandom(name.length * 7919);
      const scan = kernelScans[name];
      assert.ok(scan);
      const pool = Array.from({ length: 40 }, (_, i) => newDestination(i, random));
      let list = pool.slice(0, 1 + Math.floor(random() * 40));
      const scheduler = createScheduler(name, { countersReported });
      scheduler.update(list);
      let picks = 0;
      for (let step = 0; step < 3000; step++) {
        const expected: Destination | undefined = scan(list);
        const picked = scheduler.pick(connection());
        assert.equal(picked?.id, expected?.id, `step ${step}`);
        if (picked) {
          connectionOpened(picked);
          picks++;
        }
        const next = mutate(pool, list, random);
        if (next) {
          list = next;
          scheduler.update(list);
        }
      }
      assert.ok(picks > 300, `only ${picks} picks: the run should pick often`);
    });
  }
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chiSquareTest } from '../../src/lab/stats.js';
import { createScheduler, knownSchedulerNames } from '../../src/schedulers/registry.js';
import type { ConnectionInfo, Destination } from '../../src/schedulers/scheduler.js';

function destinations(count: number): Destination[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `10.0.0.${i + 1}:80`,
    weight: 1,
    activeConns: 0,
    inactiveConns: 0,
  }));
}

function connection(clientIP = '192.168.1.10', clientPort = 40000): ConnectionInfo {
  return { clientIP, clientPort, serviceIP: '10.96.0.1', servicePort: 80 };
}

/** Picks `count` connections, opening each on its destination (as the proxy's connection table does). */
function spread(name: string, dests: Destination[], count: number, random?: () => number): number[] {
  const scheduler = createScheduler(name, { random });
  scheduler.update(dests);
  const counts = dests.map(() => 0);
  for (let i = 0; i < count; i++) {
    const picked = scheduler.pick(connection('192.168.1.10', 40000 + i));
    assert.ok(picked, `${name} picked nothing`);
    picked.activeConns++;
    counts[dests.indexOf(picked)] = (counts[dests.indexOf(picked)] ?? 0) + 1;
  }
  return counts;
}

describe('the seed schedulers', () => {
  it('rr gives three pods 334/333/333 of 1000', () => {
    assert.deepEqual(spread('rr', destinations(3), 1000), [334, 333, 333]);
  });

  it('sh sends every connection of one client IP to one pod', () => {
    const counts = spread('sh', destinations(3), 1000);
    assert.equal(counts.filter((count) => count === 1000).length, 1);
  });

  it('lc spreads 1000 connections held open at once within 5% of even', () => {
    for (const count of spread('lc', destinations(3), 1000))
      assert.ok(Math.abs(count - 1000 / 3) <= 1000 / 3 / 20);
  });

  it('random passes chi-square against even over 3000 connections', () => {
    const { pValue } = chiSquareTest(spread('random', destinations(3), 3000));
    assert.ok(pValue > 0.001, `p = ${pValue}`);
  });

  it('the chi-square check fails on a skewed spread', () => {
    // A deliberately broken cascade: the first endpoint matches half the time instead of a third.
    let call = 0;
    const skewed = () => (call++ % 2 === 0 ? Math.random() * 0.66 : Math.random());
    const { pValue } = chiSquareTest(spread('random', destinations(3), 3000, skewed));
    assert.ok(pValue < 0.001, `p = ${pValue}`);
  });

  it('an unknown scheduler is an error that lists the known ones', () => {
    assert.throws(
      () => createScheduler('lcx'),
      (error: Error & { hint?: string }) =>
        error.message.includes('"lcx"') && knownSchedulerNames().every((name) => error.hint?.includes(name)),
    );
  });
});
